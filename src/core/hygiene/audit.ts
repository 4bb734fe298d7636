import type { Deps } from "../deps";
import { ExchangeIpRefusedError, sanitizeErrorMessage } from "../errors";
import type { VersionFingerprints } from "../model";
import type { OperatorRequests } from "../ports";
import {
  DEFAULT_THRESHOLDS,
  type HygieneFinding,
  type HygieneThresholds,
  judgeSecret,
  recordedKeyIds,
  type SecretFacts,
} from "./findings";

export interface HygieneReport {
  at: string;
  secrets: number;
  findings: HygieneFinding[];
  counts: { high: number; medium: number; low: number };
}

export type HygieneDeps = Pick<
  Deps,
  "store" | "consumers" | "secrets" | "exchange" | "ledger" | "alerts" | "clock" | "egressIps"
> & {
  /** The read-policy drift check (`readPolicyDrift`); absent: not checked. */
  policyDrift?: (secretId: string) => Promise<SecretFacts["policyDrift"]>;
  /** The operator plane's reviews (emergencies nobody else signed off yet); absent: not checked. */
  requests?: OperatorRequests;
};

/**
 * Each exchange account's keys as the exchange lists them, asked once per account per audit; a
 * manual account has no listing (only a person sees its keys); a failure is the fact, not a throw.
 */
function accountListings(deps: HygieneDeps): (account: string) => Promise<SecretFacts["exchange"]> {
  const listings = new Map<string, Promise<SecretFacts["exchange"]>>();
  return (account) => {
    let found = listings.get(account);
    if (!found) {
      found = deps.exchange
        .capabilities(account)
        .then(async (caps): Promise<SecretFacts["exchange"]> => {
          if (caps.keyManagement === "manual") return { manual: true };
          const l = await deps.exchange.listKeys(account);
          return {
            keys: l.keys,
            ...(caps.unboundKeyExpiry ? { unboundKeyExpiry: caps.unboundKeyExpiry } : {}),
          };
        })
        .catch((err: unknown) => ({
          error: sanitizeErrorMessage(err, 200),
          ...(err instanceof ExchangeIpRefusedError ? { ipRefused: true } : {}),
        }));
      listings.set(account, found);
    }
    return found;
  };
}

/**
 * The credential hygiene audit over every enrolled secret (`keyshift hygiene`, and weekly).
 *
 * Input: thresholds, whether to alert. Output: every finding with severity and fix, counted.
 * 1. Gather per secret: settings, rotations, consumers and instances, the recorded versions' key ids
 *    and declared scope (no secret value is read), the account's keys as the exchange lists them
 *    (once per account), the ledger, the read-policy drift.
 * 2. Judge with `judgeSecret` (pure rules, `core/hygiene/findings.ts`).
 * 3. With `alert`, one SNS alert listing the high and medium findings (none when clean).
 * A failure to gather one secret's facts is itself a finding, so one broken secret does not hide
 * the others.
 */
export async function hygieneAudit(
  input: { thresholds?: Partial<HygieneThresholds>; alert?: boolean },
  deps: HygieneDeps,
): Promise<HygieneReport> {
  const now = deps.clock.now();
  const thresholds = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  const all = await deps.store.listSettings();
  const ledger = await deps.ledger.listAll();
  const listingOf = accountListings(deps);
  // Read once: each secret's versions are its own facts and the other secrets' "not an orphan".
  const versionsOf = new Map<string, VersionFingerprints | undefined>();
  for (const settings of all)
    versionsOf.set(settings.secretId, await deps.store.getVersions(settings.secretId));

  const findings: HygieneFinding[] = [];
  for (const settings of all) {
    const { secretId, exchangeAccount } = settings;
    try {
      const facts: SecretFacts = {
        settings,
        rotations: await deps.store.listRotations(secretId),
        versions: versionsOf.get(secretId),
        consumers: await deps.consumers.listConsumers(secretId),
        instances: await deps.consumers.listInstances(secretId),
        exchange: await listingOf(exchangeAccount),
        ledger: ledger.filter((e) => e.exchangeAccount === exchangeAccount),
        otherSecretsKeyIds: all
          .filter((s) => s.exchangeAccount === exchangeAccount && s.secretId !== secretId)
          .flatMap((s) => recordedKeyIds(versionsOf.get(s.secretId))),
        policyDrift: deps.policyDrift ? await deps.policyDrift(secretId) : [],
        egressIps: deps.egressIps,
      };
      findings.push(...judgeSecret(facts, now, thresholds));
    } catch (err) {
      findings.push({
        secretId,
        kind: "rotation-stuck",
        severity: "high",
        message: `the audit could not read this secret's state: ${sanitizeErrorMessage(err, 200)}`,
        fix: `keyshift status ${secretId}`,
      });
    }
  }
  findings.push(...(await unreviewedEmergencies(deps)));
  const counts = {
    high: findings.filter((f) => f.severity === "high").length,
    medium: findings.filter((f) => f.severity === "medium").length,
    low: findings.filter((f) => f.severity === "low").length,
  };
  const report = { at: now.toISOString(), secrets: all.length, findings, counts };
  if (input.alert) await alertFindings(deps, findings, counts, all.length);
  return report;
}

/**
 * An emergency rotation runs without waiting for a second principal (speed is the point), so it is
 * reviewed after the fact: each one nobody else has signed off yet is a finding until someone does.
 */
async function unreviewedEmergencies(deps: HygieneDeps): Promise<HygieneFinding[]> {
  if (!deps.requests) return [];
  return (await deps.requests.list())
    .filter((r) => r.kind === "review" && r.status === "review-open")
    .map((r) => ({
      secretId: r.secretId ?? "_system",
      kind: "emergency-unreviewed" as const,
      severity: "medium" as const,
      message: `${r.command} by ${r.requester} at ${r.createdAt} (${r.reason}) is not signed off by a second principal`,
      fix: `keyshift approvals sign-off ${r.requestId} (by a principal other than ${r.requester})`,
    }));
}

/** One alert listing the high and medium findings (none when there are none). */
async function alertFindings(
  deps: HygieneDeps,
  findings: HygieneFinding[],
  counts: HygieneReport["counts"],
  secrets: number,
): Promise<void> {
  if (counts.high + counts.medium === 0) return;
  const worst = findings.filter((f) => f.severity !== "low").slice(0, 20);
  await deps.alerts.send({
    kind: "hygiene-findings",
    secretId: "_system",
    subject: `keyshift hygiene: ${counts.high} high, ${counts.medium} medium finding(s) over ${secrets} secret(s)`,
    details: {
      findings: worst.map((f) => `${f.severity} ${f.kind} ${f.secretId}: ${f.message} -> ${f.fix}`),
      action: "`keyshift hygiene` lists every finding with the command that fixes it",
    },
  });
}
