/**
 * The retired-key-use oracle (issue 20): judges each hourly misuse run from the world's own records —
 * the attacker's accepted requests (`World.attackerUses`), the ledger entries and the exchange's keys
 * as the fakes held them before and after the run, and the alerts the in-memory alerts port recorded
 * while it ran. It imports nothing from the code under test: the retired statuses, the tolerance and
 * the hour the run judges are restated here from the documentation of `src/core/misuse/retired-keys.ts`
 * and `hourly.ts`, so a plant that moves them in the code does not move the oracle.
 *
 * - **R1 (detection)**: an attacker use at t of a key whose ledger entry was created at c, with
 *   t > c + tolerance and t in the hours the run judges (the hour that ended before it started, and
 *   the one it started in), made before a run that completed without throwing, with the entry
 *   retired when it began and no other invocation restoring or revoking it (or removing its key)
 *   while it ran, and no exchange call of the run for its account failing (a run that never asked
 *   is not excused): the run alerted a `retired-key-used` for that key.
 * - **R2 (stop)**: after such a run, unless what it did for the entry was `held`, `failed` or
 *   `needs-person`, the key no longer authenticates (disabled, or gone from the exchange).
 * - **R0 (no false alarm)**: every `retired-key-used` the run alerted names a key the exchange
 *   accepted a trade from (the world's own record, `World.acceptedTrades`) more than the tolerance
 *   after the earliest moment it can have been retired — its entry's opening or, for a key an
 *   operator restored, the last snapshot that showed it back in service — and before the run ended.
 *   A use while the key was in service is no retired key in use.
 * - **R3 (I1)** is the existing I1 oracle: every disable/remove the run makes goes through the same
 *   wrapped exchange as the sweeper's, so `checkRevocationCall` and `checkRevocationTruth` judge it
 *   against the instances' record at the run's own `listInstances` read.
 */
import type { AttackerUse } from "../attacker";
import type { MisuseRunRecord } from "../misuse-hourly";
import type { AcceptedTrade, Violation } from "../world";

/** "Use this long after the retirement is not judged" (retired-keys.ts: 2 minutes). */
export const RETIRED_USE_TOLERANCE_MS_DOCUMENTED = 120_000;

/** The ledger statuses whose key keyshift retired and has not seen gone (restoring/restored/revoked are not). */
const RETIRED = new Set(["pending", "failed", "disabled", "awaiting-operator"]);

export const isRetiredStatus = (status: string | undefined): boolean => RETIRED.has(status ?? "");

const HOUR_MS = 3_600_000;
const hour = (ms: number): number => Math.floor(ms / HOUR_MS);

/** What the run did that excuses a key still alive: the guard held, the exchange failed, a person must delete. */
const EXCUSED = new Set(["held", "failed", "needs-person"]);

export interface RetiredUseObligation {
  entryId: string;
  secretId: string;
  keyId: string;
  detected: boolean;
  /** The run's action for the entry (its return), when it said one. */
  outcome?: string;
  /** The key did not authenticate when the run ended. */
  stopped: boolean;
}

/** `true` when one of the run's alerts names a `retired-key-used` of this key (one by one, or in the summary). */
function alerted(run: MisuseRunRecord, secretId: string, keyId: string): boolean {
  return run.alerts.some((a) => {
    if (a.kind !== "misuse-finding") return false;
    if (a.details.kind === "retired-key-used" && a.details.keyId === keyId && a.secretId === secretId)
      return true;
    const listed = a.details.findings;
    return Array.isArray(listed) && listed.some((f) => f.endsWith(` retired-key-used ${secretId} ${keyId}`));
  });
}

/** R1 and R2 for one finished run. */
export function checkRetiredUseRun(
  run: MisuseRunRecord,
  uses: readonly AttackerUse[],
): { violations: Violation[]; obligations: RetiredUseObligation[] } {
  const violations: Violation[] = [];
  const obligations: RetiredUseObligation[] = [];
  if (run.endSeq === undefined || run.error !== undefined || run.overlapped)
    return { violations, obligations };
  const fromHour = hour(run.startedAt) - 1;
  for (const e of run.entriesAtStart) {
    if (!isRetiredStatus(e.status)) continue;
    if (run.unstable.has(e.entryId) || run.manualAccounts.has(e.exchangeAccount)) continue;
    if (run.unlisted.has(e.exchangeAccount)) continue;
    const keyAt = (k: string) => run.keysAtEnd[`${e.exchangeAccount}#${k}`] ?? "gone";
    // Restated from the ledger's documentation: a key an operator restored was in service until
    // an attempt retired it anew; the world's own record says when it saw that (never earlier).
    const retiredAt = run.reRetiredAtStart.get(e.entryId) ?? Date.parse(e.createdAt);
    const seen = uses.some(
      (u) =>
        u.keyId === e.keyId &&
        u.account === e.exchangeAccount &&
        u.seq < run.startSeq &&
        u.at - retiredAt > RETIRED_USE_TOLERANCE_MS_DOCUMENTED &&
        hour(u.at) >= fromHour,
    );
    if (!seen) continue;
    const detected = alerted(run, e.secretId, e.keyId);
    const outcome = run.result?.retiredKeyActions.find((a) => a.entryId === e.entryId)?.outcome;
    const stopped = keyAt(e.keyId) !== "active";
    obligations.push({
      entryId: e.entryId,
      secretId: e.secretId,
      keyId: e.keyId,
      detected,
      stopped,
      ...(outcome ? { outcome } : {}),
    });
    if (!detected) {
      violations.push({
        invariant: "R1",
        signature: "retired key used after retirement not reported",
        message: `${run.actor} at ${new Date(run.startedAt).toISOString()}: ${e.keyId} of ${e.secretId} (ledger ${e.status}, retired ${e.createdAt}) was used by the attacker after its retirement, and the run alerted no retired-key-used for it`,
      });
      continue;
    }
    if (!stopped && !(outcome && EXCUSED.has(outcome))) {
      violations.push({
        invariant: "R2",
        signature: "retired key seen in use still authenticates after the misuse run",
        message: `${run.actor}: reported ${e.keyId} of ${e.secretId} in use after retirement, did ${outcome ?? "nothing"} about it, and the key is still active on the exchange`,
      });
    }
  }
  return { violations, obligations };
}

export interface RetiredUseSummary {
  /** Worlds with an attacker, keys copied, requests the exchange accepted, of which after retirement. */
  attacker: number;
  keysStolen: number;
  attackerUses: number;
  usesAfterRetirement: number;
  /** Misuse runs, and those that threw (faults, crashes). */
  runs: number;
  runsFailed: number;
  /** Runs that owed a retired-key-used (R1), detected it, stopped the key, or were excused by what they did. */
  owed: number;
  detected: number;
  stopped: number;
  held: number;
  failed: number;
}

/** The seed's counts for the batch summary (`retiredUse`), from the world's records and the runs' judgements. */
export function retiredUseSummary(
  runs: readonly MisuseRunRecord[],
  uses: readonly AttackerUse[],
  keysStolen: number,
  attacker: boolean,
): RetiredUseSummary {
  const out: RetiredUseSummary = {
    attacker: attacker ? 1 : 0,
    keysStolen,
    attackerUses: uses.length,
    usesAfterRetirement: uses.filter((u) => u.afterRetirement).length,
    runs: runs.length,
    runsFailed: runs.filter((r) => r.error !== undefined).length,
    owed: 0,
    detected: 0,
    stopped: 0,
    held: 0,
    failed: 0,
  };
  for (const run of runs) {
    for (const o of checkRetiredUseRun(run, uses).obligations) {
      out.owed += 1;
      if (o.detected) out.detected += 1;
      if (o.detected && o.stopped) out.stopped += 1;
      if (o.outcome === "held") out.held += 1;
      if (o.outcome === "failed") out.failed += 1;
    }
  }
  return out;
}

/** Every `secretId keyId` pair a run alerted a `retired-key-used` for (one by one, or in a summary). */
function alertedRetiredKeys(run: MisuseRunRecord): Set<string> {
  const out = new Set<string>();
  for (const a of run.alerts) {
    if (a.kind !== "misuse-finding") continue;
    if (a.details.kind === "retired-key-used" && typeof a.details.keyId === "string")
      out.add(`${a.secretId} ${a.details.keyId}`);
    const listed = Array.isArray(a.details.findings) ? (a.details.findings as unknown[]) : [];
    for (const f of listed) {
      const m = typeof f === "string" ? / retired-key-used (\S+) (\S+)$/.exec(f) : null;
      if (m) out.add(`${m[1]} ${m[2]}`);
    }
  }
  return out;
}

/** R0 for one finished run: no `retired-key-used` without a trade after the key's earliest retirement. */
export function checkNoFalseRetiredAlarm(
  run: MisuseRunRecord,
  trades: readonly AcceptedTrade[],
): Violation[] {
  const violations: Violation[] = [];
  if (run.endSeq === undefined || run.overlapped) return violations;
  const endSeq = run.endSeq;
  for (const pair of alertedRetiredKeys(run)) {
    const [secretId, keyId] = pair.split(" ");
    const e = run.entriesAtStart.find((x) => x.secretId === secretId && x.keyId === keyId);
    // Judged from an entry the run could not have read at its start, or one moved while it ran.
    if (!e || run.unstable.has(e.entryId)) continue;
    const earliest = run.reRetiredAfterStart.get(e.entryId) ?? Date.parse(e.createdAt);
    const used = trades.some(
      (t) =>
        t.keyId === e.keyId &&
        t.account === e.exchangeAccount &&
        t.seq < endSeq &&
        t.at - earliest > RETIRED_USE_TOLERANCE_MS_DOCUMENTED,
    );
    if (used) continue;
    violations.push({
      invariant: "R0",
      signature: "retired-key-used reported for a key not used after its retirement",
      message: `${run.actor} at ${new Date(run.startedAt).toISOString()}: alerted retired-key-used for ${keyId} of ${secretId} (ledger ${e.status}, retired no earlier than ${new Date(earliest).toISOString()}), but the exchange accepted no trade with it more than the tolerance after that`,
    });
  }
  return violations;
}
