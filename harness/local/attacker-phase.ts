/**
 * The `--attacker` phases of `npm start` (harness/local/attacker.ts is the attacker):
 * 1. `armAttacker`, before the rotation: the attacker takes a copy of the trading key and starts
 *    trading with it; the exchange starts refusing every disable and removal (an outage of its key
 *    API), so the rotation's revocation fails and is handed over to the sweeper.
 * 2. `detectAndStop`, after the execution: wait until the attacker has traded with the retired key
 *    after the cut-over; the exchange's key API recovers; keyshift's hourly misuse run (the real use
 *    case over the local stack's DynamoDB, Secrets Manager and exchange) finds `retired-key-used`
 *    and stops the key at once, before the sweeper's next attempt is due.
 */
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { MisuseHourlyResult } from "../../src/core/misuse/hourly";
import { misuseHourly } from "../../src/core/misuse/hourly";
import { Attacker, type AttackerReport } from "./attacker";
import type { LocalExchange, TradingCredential } from "./exchanges";
import type { Enrolled } from "./scenario";
import type { LocalStack } from "./stack";

/** The local stack compresses time: a use this long after the retirement counts (2 min on AWS). */
const LOCAL_RETIRED_USE_TOLERANCE_MS = 500;

export interface AttackerSummary {
  attacker: AttackerReport;
  /** The finding the misuse run reported, as its alert named it. */
  finding: { id: string; kind: string; severity: string; keyId: string } | null;
  /** What keyshift did about it (`stopRetiredKeys`): disabled, revoked, failed, held… */
  action: string | null;
  /** Seconds from the attacker's first accepted order after the cut-over to keyshift stopping the key. */
  stoppedAfterSeconds: number | null;
  /** Misuse runs until the finding: 1 is the goal ("within one run"). */
  misuseRuns: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function armAttacker(
  stack: LocalStack,
  secretId: string,
  exchange: LocalExchange,
  print: (line: string) => void,
): Promise<Attacker> {
  if (!exchange.refuseRevocations || !exchange.reportsLastUse) {
    throw new Error(
      `--attacker needs an exchange whose simulator reports each key's last use and can refuse revocations; ${exchange.name} cannot`,
    );
  }
  const sm = new SecretsManagerClient({ region: stack.region, endpoint: stack.endpoints.secretsManager });
  let stolen: TradingCredential;
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: "AWSCURRENT" }));
    stolen = JSON.parse(out.SecretString ?? "{}") as TradingCredential;
  } finally {
    sm.destroy();
  }
  const attacker = new Attacker(exchange, stolen);
  attacker.start();
  exchange.refuseRevocations(true);
  print(
    `ATTACKER: holds a copy of the current trading key (value never shown) and trades with it from ${attacker.report(undefined, undefined).from} (inside the key's binding)`,
  );
  print(`exchange: its key API refuses every disable and removal (5xx) until further notice`);
  return attacker;
}

export async function detectAndStop(
  stack: LocalStack,
  enrolled: Enrolled,
  exchange: LocalExchange,
  attacker: Attacker,
  print: (line: string) => void,
): Promise<AttackerSummary> {
  const entry = (await enrolled.deps.ledger.listBySecret(enrolled.secretId)).find(
    (e) => e.kind !== "unpromoted",
  );
  const cutoverAt = entry ? Date.parse(entry.createdAt) : undefined;
  const summary: AttackerSummary = {
    attacker: attacker.report(cutoverAt, undefined),
    finding: null,
    action: null,
    stoppedAfterSeconds: null,
    misuseRuns: 0,
  };
  if (!entry || cutoverAt === undefined) {
    print("attacker: no retired key in the ledger (the rotation did not reach its revocation)");
    return summary;
  }
  // The attacker keeps trading with the retired key while its revocation fails.
  const deadline = Date.now() + 10_000;
  while (attacker.acceptedSince(cutoverAt + LOCAL_RETIRED_USE_TOLERANCE_MS) < 3 && Date.now() < deadline)
    await sleep(100);
  const firstAbuse = Date.now();
  print(
    `attacker: ${attacker.acceptedSince(cutoverAt)} order(s) accepted with the retired key ${entry.keyId} after the cut-over (ledger ${entry.entryId} ${entry.status})`,
  );
  exchange.refuseRevocations?.(false);
  const due = (await enrolled.deps.ledger.get(entry.entryId))?.nextAttemptAt;
  print(
    `exchange: its key API recovers; the sweeper's next attempt on ${entry.entryId} is due ${due ? `at ${due}` : "(none scheduled)"}; the misuse run comes first`,
  );
  let result: MisuseHourlyResult | undefined;
  while (summary.misuseRuns < 3) {
    summary.misuseRuns += 1;
    result = await misuseHourly({
      ...enrolled.deps,
      acks: enrolled.deps.misuseAcks,
      retiredKeys: { ...enrolled.deps, retiredUseToleranceMs: LOCAL_RETIRED_USE_TOLERANCE_MS },
      stop: enrolled.deps,
    });
    if (result.retiredKeyActions.length > 0) break;
    await sleep(500);
  }
  const action = result?.retiredKeyActions[0];
  const stoppedAt = Date.now();
  const alert = stack.sns
    .messages()
    .map((m) => JSON.parse(m.message) as { kind: string; details?: Record<string, unknown> })
    .find((a) => a.kind === "misuse-finding" && a.details?.kind === "retired-key-used");
  summary.finding = alert?.details
    ? {
        id: String(alert.details.findingId),
        kind: String(alert.details.kind),
        severity: String(alert.details.severity),
        keyId: String(alert.details.keyId),
      }
    : null;
  summary.action = action?.outcome ?? null;
  summary.stoppedAfterSeconds = action ? +((stoppedAt - firstAbuse) / 1000).toFixed(1) : null;
  print(
    `misuse run ${summary.misuseRuns}: ${summary.finding ? `${summary.finding.severity} ${summary.finding.kind} ${summary.finding.id} on key ${summary.finding.keyId}` : "no retired-key-used finding"}; keyshift ${action ? `${action.outcome} the key (ledger ${action.entryId})` : "did nothing"}`,
  );
  // The attacker tries on for a moment: every order after the stop must be refused.
  await sleep(800);
  await attacker.stop();
  summary.attacker = attacker.report(cutoverAt, stoppedAt);
  print(
    `attacker: ${summary.attacker.afterStop.orders} order(s) after keyshift stopped the key, ${summary.attacker.afterStop.accepted} accepted`,
  );
  return summary;
}
