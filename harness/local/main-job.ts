import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { LedgerEntry } from "../../src/core/model";
import { retryRevocations } from "../../src/core/revocation/retry";
import type { Attacker } from "./attacker";
import { type AttackerSummary, armAttacker, detectAndStop } from "./attacker-phase";
import { SimulatedFleet } from "./consumers";
import { ATTACKER_HOST_IP, EGRESS_IP } from "./exchange/caller-address";
import {
  BOUND_TO_EGRESS,
  type LocalExchange,
  type LocalExchangeName,
  type TradingCredential,
  tradingCredential,
  UNBOUND,
} from "./exchanges";
import { judgeOldKey, mainJobVerdict, type OldKeyVerdict } from "./main-job-verdict";
import { defaultConsumers, enrollLocalSecret, registerConsumers } from "./scenario";
import { startRotation } from "./scheduled-start";
import { type ManualStep, type ScriptedOperator, startScriptedOperator } from "./scripted-operator";
import { allSecretValues, captureLambdaLogs, scanForSecrets } from "./secret-scan";
import { type LocalStack, operatorEnv, type SecretReadDelivery, startLocalStack } from "./stack";
import type { ExecutionEvent } from "./workflow-runner";

export interface MainJobOptions {
  consumers: number;
  revokeFailureRate: number;
  laggingConsumer: boolean;
  seed: number;
  json: boolean;
  /** The exchange protocol the rotation runs on (default Deribit). */
  exchange?: LocalExchangeName;
  /** An emergency rotation (suspected compromise) with one lagging consumer. */
  compromised?: boolean;
  /** Rotate an unbound key (default: bound to keyshift's egress and the trading host, as firms run them). */
  unbound?: boolean;
  /** Someone trades with a copy of the old key; its revocation fails for a while; the misuse run must stop it. */
  attacker?: boolean;
}

/** Local runs compress time: the grace before a disabled key is removed, the emergency deadline. */
const LOCAL_REMOVE_AFTER_SECONDS = 3;
const LOCAL_EMERGENCY_DEADLINE_SECONDS = 12;

export interface MainJobSummary {
  rotation: "completed" | "revocation-deferred" | "stalled" | "aborted" | "failed";
  /** How the rotation was started: its EventBridge Scheduler schedule, or by hand (`--compromised`). */
  trigger?: string;
  secretId: string;
  executionStatus: string;
  error?: string;
  previousRevoked: boolean;
  exchangeActiveKeys: number;
  consumers: { total: number; onCurrent: number; lagging: string[] };
  ledger: { pending: number; revoked: number; failed: number; needsOperator: number };
  sweeper: { runs: number; outcome: "not-needed" | "ledger-clear" | "needs-operator" | "gave-up" };
  requestsWithRemovedKey: number;
  /**
   * keyshift's own one call with a key a person deleted, to see it fail before it records the
   * deletion (`keys confirm-deleted`, manual exchanges only): from the egress, to the key's
   * self-description. Not a service holding the key, so not in `requestsWithRemovedKey`.
   */
  deletionProbes: number;
  /**
   * The rotated key, old and new, carries the same non-empty IP allow-list on the exchange (read
   * from the simulator, not from keyshift): the rotation kept the binding.
   */
  ipBound: boolean;
  /** Which exchange protocol the rotation ran on. */
  exchange: LocalExchangeName;
  /** Steps a person did (Kraken: make the key, delete the old one); 0 where keyshift does all. */
  manualSteps: number;
  manual?: ManualStep[];
  /** The previous key as the exchange shows it at the end (Deribit: disabled first, removed after the grace). */
  previousKey: "active" | "disabled" | "removed" | "unknown";
  /** When the previous key stopped authenticating (disabled or removed), and when it was removed. */
  previousKeyTimeline: { disabledAt: string | null; removedAt: string | null };
  /** `--compromised`: how fast the old key died, who was left behind, what the others saw. */
  emergency?: {
    deadlineSeconds: number;
    previousKeyDeadAfterSeconds: number | null;
    previousKeyAuthenticates: boolean;
    laggingConsumers: string[];
    switchedConsumersFailedRequests: number;
  };
  /** `--attacker`: the attacker's orders, the misuse finding, what keyshift did, how fast. */
  misuse?: AttackerSummary;
  alerts: Array<{ kind: string; subject: string }>;
  /** Principals that read (or were refused reading) the secret without being registered consumers. */
  unregisteredReaders: string[];
  secretScan: { scanned: number; hits: number };
  durationMs: number;
  /** The previous key's fate: dead, or still living and what an operator runs about it. */
  oldKey: OldKeyVerdict;
  /** True only when `exitCode` is 0: the rotation completed and the old key is dead. */
  success: boolean;
  /** `npm start`'s exit code (README, "Exit codes of `npm start`"), and why it is not 0. */
  exitCode: 0 | 1 | 2;
  verdictReasons: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `npm start`: one rotation, end to end, on the embedded local stack — real ASL, real handlers,
 * real protocols — with simulated consumers heartbeating and trading throughout.
 */
export async function runMainJob(
  opts: MainJobOptions,
  print: (line: string) => void,
): Promise<MainJobSummary> {
  const started = Date.now();
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
  const logs = captureLambdaLogs();
  const stack = await startLocalStack({
    seed: opts.seed,
    revocation: { maxAttempts: 6, baseSeconds: 1, capSeconds: 3 },
  });
  let fleet: SimulatedFleet | undefined;
  let person: ScriptedOperator | undefined;
  let attacker: Attacker | undefined;
  try {
    print(
      `local stack up: dynamodb ${stack.endpoints.dynamodb}, secrets manager ${stack.endpoints.secretsManager}, exchange ${stack.endpoints.exchange}, heartbeat API ${stack.endpoints.heartbeatApi}`,
    );
    const exchangeName = opts.exchange ?? "deribit";
    const exchange = stack.exchanges[exchangeName];
    // keyshift's own test protocol has no IP allow-lists.
    const bound = opts.attacker
      ? { ...BOUND_TO_EGRESS, trading: [...BOUND_TO_EGRESS.trading, ATTACKER_HOST_IP] }
      : BOUND_TO_EGRESS;
    const ipBinding = opts.unbound || exchangeName === "keyshift-sim" ? UNBOUND : bound;
    const enrolled = await enrollLocalSecret(stack, {
      exchange: exchangeName,
      ipBinding,
      settings: {
        removeAfterSeconds: LOCAL_REMOVE_AFTER_SECONDS,
        emergencyDeadlineSeconds: LOCAL_EMERGENCY_DEADLINE_SECONDS,
        ...(opts.laggingConsumer ? { deadlineSeconds: 6 } : {}),
      },
    });
    const lagging = opts.laggingConsumer || (opts.compromised ?? false);
    const specs = defaultConsumers(enrolled.secretId, opts.consumers, lagging).map((spec) => ({
      ...spec,
      exchange: exchangeName,
    }));
    await registerConsumers(enrolled, specs);
    print(
      `enrolled ${enrolled.secretId} (account ${enrolled.account} on ${exchangeName}, ${exchange.url}); ${specs.length} consumers registered:`,
    );
    print(
      ipBinding.trading.length > 0
        ? `IP-bound: the admin key to ${ipBinding.admin.join(", ")} (keyshift's egress), the trading key to ${ipBinding.trading.join(", ")} (egress, consumer host)`
        : "unbound keys (no IP allow-list)",
    );
    for (const s of specs) {
      print(
        `  - ${s.consumerId}: ${s.instances} instance(s), cache TTL ${s.cacheTtlMs} ms, heartbeat every ${s.heartbeatMs} ms${s.stuck ? ", NEVER REFRESHES (lagging)" : ""}`,
      );
    }
    fleet = new SimulatedFleet(stack, specs);
    await fleet.start();
    if (opts.revokeFailureRate > 0) {
      exchange.failRemovals(opts.revokeFailureRate);
      print(`exchange: removeKey fails at rate ${opts.revokeFailureRate} (seed ${opts.seed})`);
    }
    if (opts.compromised) {
      print(
        `EMERGENCY rotation (suspected compromise): no overlap; the previous key dies ${LOCAL_EMERGENCY_DEADLINE_SECONDS}s after the start even if consumers lag (120 s by default)`,
      );
    }

    // Kraken keys are made and deleted by a person: the scripted on-call operator plays them.
    if (exchangeName === "kraken") {
      print(
        "Kraken: keys are made and deleted by a person in the web UI; a scripted operator answers keyshift's tasks through the operator API",
      );
      // As deployed: operator A's own keys, and the commands (the key included) go to the operator API.
      person = startScriptedOperator({
        tasks: enrolled.deps.tasks,
        ui: stack.webUi.kraken,
        env: { ...process.env, ...operatorEnv(stack, stack.operators.a) },
        secretId: enrolled.secretId,
        print,
      });
    }
    if (opts.attacker) attacker = await armAttacker(stack, enrolled.secretId, exchange, print);
    const rotationStartedAt = Date.now();
    const execution = await startRotation(
      stack,
      opts.compromised
        ? {
            secretId: enrolled.secretId,
            trigger: "manual",
            compromised: true,
            reason: "npm start --compromised: the key was seen in a public paste",
          }
        : { secretId: enrolled.secretId, trigger: "schedule" },
      { waitMs: 300, retryMs: 50, onEvent: (e) => progress(e, print) },
      print,
    );

    await person?.stop();
    const misuse = attacker ? await detectAndStop(stack, enrolled, exchange, attacker, print) : undefined;
    let sweeperRuns = 0;
    let sweeperOutcome: MainJobSummary["sweeper"]["outcome"] = "not-needed";
    const open = (entries: LedgerEntry[]) => entries.filter((e) => e.status !== "revoked");
    const openAfterRun = open(await enrolled.deps.ledger.listAll());
    // The misuse run stopped the retired key the sweeper was to retry: nothing is left for it.
    if (misuse?.action && openAfterRun.length === 0) sweeperOutcome = "ledger-clear";
    if (openAfterRun.length > 0 && execution.status === "SUCCEEDED") {
      print(
        openAfterRun.every((e) => e.status === "disabled")
          ? `sweeper: previous key disabled; removing it after the grace (${LOCAL_REMOVE_AFTER_SECONDS}s here, removeAfterSeconds) on a compressed schedule`
          : "sweeper: revocation handed over; running the scheduled sweeper on a compressed schedule",
      );
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const entries = open(await enrolled.deps.ledger.listAll());
        if (entries.length === 0) {
          sweeperOutcome = "ledger-clear";
          break;
        }
        if (entries.every((e) => e.needsOperator)) {
          sweeperOutcome = "needs-operator";
          break;
        }
        const result = await retryRevocations({ limit: 100 }, enrolled.deps);
        if (result.due > 0) {
          sweeperRuns += 1;
          print(
            `  sweeper run ${sweeperRuns}: due ${result.due}, revoked ${result.revoked}, failed ${result.failed}, needs operator ${result.needsOperator}`,
          );
        }
        await sleep(250);
      }
      if (sweeperOutcome === "not-needed") sweeperOutcome = "gave-up";
    }

    // Let every instance heartbeat once more so the summary shows where each one ended up.
    await sleep(800);
    await fleet.stop();
    const states = fleet.states();
    const versions = await enrolled.deps.store.getVersions(enrolled.secretId);
    const currentFp = versions?.current?.fingerprint;
    const consumerIds = [...new Set(states.map((s) => s.consumerId))];
    const onCurrent = consumerIds.filter((id) =>
      states.filter((s) => s.consumerId === id).every((s) => s.fingerprint === currentFp),
    );
    const ledgerEntries = await enrolled.deps.ledger.listAll();
    const keys = exchange.keys(enrolled.account);
    const rotations = await enrolled.deps.store.listRotations(enrolled.secretId);
    const last = rotations.at(-1);
    const previousKeyId = last?.previous?.exchangeKeyId;
    const previousRevoked =
      !!previousKeyId && keys.some((k) => k.keyId === previousKeyId && k.status === "removed");
    const previousKey = keys.find((k) => k.keyId === previousKeyId)?.status ?? "unknown";
    const ipBound = keptBinding(keys, previousKeyId, last?.current?.exchangeKeyId);
    const previousEntry = ledgerEntries.find((e) => e.keyId === previousKeyId);
    const deadAt = previousEntry?.disabledAt ?? previousEntry?.revokedAt;
    const previousKeyTimeline = {
      disabledAt: previousEntry?.disabledAt ?? null,
      removedAt: previousEntry?.revokedAt ?? null,
    };
    const emergency = opts.compromised
      ? {
          deadlineSeconds: LOCAL_EMERGENCY_DEADLINE_SECONDS,
          previousKeyDeadAfterSeconds: deadAt
            ? +((Date.parse(deadAt) - rotationStartedAt) / 1000).toFixed(1)
            : null,
          previousKeyAuthenticates: await previousKeyStillWorks(stack, enrolled.secretId, exchange),
          laggingConsumers: consumerIds.filter((id) => !onCurrent.includes(id)),
          switchedConsumersFailedRequests: states
            .filter((s) => onCurrent.includes(s.consumerId))
            .reduce((n, s) => n + s.tradesRejected, 0),
        }
      : undefined;
    const alerts = stack.sns
      .messages()
      .map((m) => JSON.parse(m.message) as { kind: string; subject: string });
    const audit = await enrolled.deps.audit.list(enrolled.secretId);

    const secrets = await allSecretValues(stack.endpoints.secretsManager, stack.region);
    const haystacks = [
      ...logs.lines.map((text, i) => ({ where: `log line ${i + 1}`, text })),
      ...execution.history.map((e, i) => ({
        where: `history event ${i + 1} (${e.type} ${e.state ?? ""})`,
        text: JSON.stringify(e),
      })),
      ...audit.map((a) => ({ where: `audit seq ${a.seq}`, text: JSON.stringify(a) })),
      ...stack.sns.messages().map((m, i) => ({ where: `alert ${i + 1}`, text: JSON.stringify(m) })),
      { where: "execution output", text: JSON.stringify(execution.output ?? execution.cause ?? "") },
    ];
    const hits = scanForSecrets(haystacks, secrets);
    for (const h of hits) print(`SECRET LEAK: secret #${h.secretIndex} found in ${h.where}`);

    const outcome = (execution.output as { result?: { outcome?: string } } | undefined)?.result?.outcome;
    const rotation: MainJobSummary["rotation"] =
      execution.status === "SUCCEEDED"
        ? outcome === "revocation-deferred"
          ? "revocation-deferred"
          : "completed"
        : execution.error === "RotationStalled"
          ? "stalled"
          : last?.phase === "aborted"
            ? "aborted"
            : "failed";
    const oldKey = judgeOldKey(
      {
        keyId: previousKeyId ?? null,
        state: previousKey,
        entryId: previousEntry?.entryId ?? null,
        needsOperator: previousEntry?.needsOperator ?? false,
        sweeperStopped: sweeperOutcome === "needs-operator" || sweeperOutcome === "gave-up",
      },
      exchangeName,
    );
    const needsOperator = ledgerEntries.filter((e) => e.needsOperator).length;
    const verdict = mainJobVerdict({
      rotation,
      oldKey,
      ledgerNeedsOperator: needsOperator,
      sweeperOutcome,
      secretLeaks: hits.length,
      requestsWithRemovedKey: removedKeyUse(exchange, exchangeName).trading,
      ...(emergency ? { emergency } : {}),
      ...(misuse
        ? {
            attacker: {
              detected: misuse.finding?.kind === "retired-key-used",
              stopped: misuse.action === "disabled" || misuse.action === "revoked",
              acceptedAfterStop: misuse.attacker.afterStop.accepted,
            },
          }
        : {}),
      bindingLost: ipBinding.trading.length > 0 && rotation === "completed" && !ipBound,
    });
    return {
      rotation,
      trigger: last?.trigger,
      secretId: enrolled.secretId,
      executionStatus: execution.status,
      error: execution.error,
      previousRevoked,
      exchangeActiveKeys: keys.filter((k) => k.status === "active").length,
      consumers: {
        total: consumerIds.length,
        onCurrent: onCurrent.length,
        lagging: consumerIds.filter((id) => !onCurrent.includes(id)),
      },
      ledger: {
        pending: ledgerEntries.filter((e) => e.status === "pending").length,
        revoked: ledgerEntries.filter((e) => e.status === "revoked").length,
        failed: ledgerEntries.filter((e) => e.status === "failed").length,
        needsOperator,
      },
      sweeper: { runs: sweeperRuns, outcome: sweeperOutcome },
      requestsWithRemovedKey: removedKeyUse(exchange, exchangeName).trading,
      deletionProbes: removedKeyUse(exchange, exchangeName).probes,
      ipBound,
      exchange: exchangeName,
      manualSteps: person?.steps.length ?? 0,
      ...(person ? { manual: person.steps } : {}),
      previousKey,
      previousKeyTimeline,
      ...(emergency ? { emergency } : {}),
      ...(misuse ? { misuse } : {}),
      alerts: alerts.map((a) => ({ kind: a.kind, subject: a.subject })),
      unregisteredReaders: unregisteredReaders(await stack.secretReads()),
      secretScan: { scanned: haystacks.length, hits: hits.length },
      durationMs: Date.now() - started,
      oldKey,
      success: verdict.code === 0,
      exitCode: verdict.code,
      verdictReasons: verdict.reasons,
    };
  } finally {
    await fleet?.stop().catch(() => undefined);
    await person?.stop().catch(() => undefined);
    await attacker?.stop().catch(() => undefined);
    logs.restore();
    await stack.close();
  }
}

function progress(e: ExecutionEvent, print: (line: string) => void): void {
  const out = e.output as Record<string, unknown> | undefined;
  if (
    e.type === "StateEntered" &&
    e.state &&
    !["Route", "ConsumersReady", "AbortOutcome", "StartWaiting", "WaitForConsumers"].includes(e.state)
  ) {
    print(`→ ${e.state}`);
    if (e.state === "AwaitManualKey") print("  waiting for a person to make the key (`keyshift tasks list`)");
  } else if (e.type === "StateRetried") {
    print(`  ↻ ${e.state} retried after ${e.error ?? "an error"}`);
  } else if (e.type === "StateCaught") {
    print(`  ✗ ${e.state} failed (${e.error ?? "error"}), caught`);
  } else if (e.type === "StateExited" && e.state === "CreateNext" && out?.created) {
    const c = out?.created as Record<string, unknown>;
    print(
      `  next key ${c?.nextKeyId} stored as AWSPENDING (${c?.nextFingerprint})${c?.reused ? ", reused" : ""}`,
    );
  } else if (e.type === "StateExited" && e.state === "PromoteCurrent") {
    const p = out?.promoted as Record<string, unknown>;
    print(
      `  AWSCURRENT → ${p?.currentFingerprint}; previous key ${p?.previousKeyId} stays valid during the overlap`,
    );
  } else if (e.type === "StateExited" && e.state === "CheckConsumers") {
    const c = out?.check as {
      ready: boolean;
      lagging: Array<{ consumerId: string; reason: string; fingerprints: string[] }>;
      overlapRemainingSeconds: number;
    };
    if ((c as { emergencyBreak?: boolean }).emergencyBreak)
      print(
        `  EMERGENCY deadline passed: revoking anyway; will fail: ${c.lagging.map((l) => l.consumerId).join(", ")}`,
      );
    else if (c.ready) print("  all consumers on current; overlap passed");
    else {
      const lag = c.lagging
        .map(
          (l) =>
            `${l.consumerId} (${l.reason}${l.fingerprints.length ? ` on ${l.fingerprints.join(",")}` : ""})`,
        )
        .join("; ");
      print(
        `  waiting: ${lag || "no one lagging"}${c.overlapRemainingSeconds > 0 ? `; overlap ${c.overlapRemainingSeconds}s left` : ""}`,
      );
    }
  } else if (
    e.type === "StateExited" &&
    e.state === "RevokePrevious" &&
    (out?.revocation as { status?: string })?.status === "awaiting-operator"
  ) {
    const r = out?.revocation as Record<string, unknown>;
    print(
      `  previous key ${r?.keyId}: only a person can delete it; asked (ledger ${r?.entryId} awaiting-operator)`,
    );
  } else if (e.type === "StateExited" && e.state === "RevokePrevious" && out?.revocation) {
    const r = out?.revocation as Record<string, unknown>;
    print(
      `  previous key ${r?.keyId} ${r?.status === "disabled" ? "disabled (no longer authenticates; removed after the grace)" : "revoked"} (ledger ${r?.entryId}, ${r?.attempts} attempt(s))`,
    );
  } else if (e.type === "ExecutionFailed") {
    print(`✗ execution failed: ${e.error}`);
  } else if (e.type === "ExecutionSucceeded") {
    print("✓ execution succeeded");
  }
}

/** The old key, tried as a trading service would: does the exchange still accept it? (Value never printed.) */
async function previousKeyStillWorks(
  stack: LocalStack,
  secretId: string,
  exchange: LocalExchange,
): Promise<boolean> {
  const sm = new SecretsManagerClient({ region: stack.region, endpoint: stack.endpoints.secretsManager });
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: "AWSPREVIOUS" }));
    return await exchange.trade(tradingCredential(JSON.parse(out.SecretString ?? "{}") as TradingCredential));
  } finally {
    sm.destroy();
  }
}

/**
 * Requests made with a removed key: by trading services (a gating failure), and keyshift's own
 * deletion probes on a manual exchange (the key checked once after a person deleted it).
 */
function removedKeyUse(
  exchange: LocalExchange,
  name: LocalExchangeName,
): { trading: number; probes: number } {
  const removed = exchange.requestLog().filter((r) => r.keyState === "removed");
  const probe = (r: (typeof removed)[number]) =>
    name === "kraken" && r.callerIp === EGRESS_IP && r.path.endsWith("/GetApiKeyInfo");
  // The attacker's orders (`--attacker`) are judged apart: refused is what they must be.
  const trading = removed.filter((r) => !probe(r) && r.callerIp !== ATTACKER_HOST_IP);
  return { trading: trading.length, probes: removed.filter(probe).length };
}

/** Old and new key both carry the same non-empty allow-list, as the simulator holds them. */
function keptBinding(
  keys: Array<{ keyId: string; ipAllowlist?: string[] }>,
  previousKeyId: string | undefined,
  currentKeyId: string | undefined,
): boolean {
  const listOf = (keyId: string | undefined) =>
    [...(keys.find((k) => k.keyId === keyId)?.ipAllowlist ?? [])].sort();
  const before = listOf(previousKeyId);
  const after = listOf(currentKeyId);
  return (
    !!previousKeyId &&
    !!currentKeyId &&
    previousKeyId !== currentKeyId &&
    before.length > 0 &&
    before.join(",") === after.join(",")
  );
}

function unregisteredReaders(reads: SecretReadDelivery[]): string[] {
  const principals = reads.flatMap((r) => {
    const o = r.outcome as { reader?: string; principalArn?: string } | undefined;
    return o?.reader === "unregistered" && o.principalArn ? [o.principalArn] : [];
  });
  return [...new Set(principals)];
}
