import { runBounded } from "../bounded";
import type { LedgerEntry } from "../model";
import { attemptRevocation, type RevocationDeps } from "./through-ledger";

export interface SweepOutput {
  due: number;
  /** Due entries left for the next run because the time budget ran out. */
  deferred: number;
  revoked: number;
  failed: number;
  needsOperator: number;
  /** Entries the revocation guard held back (gate not ready, key current again): no call made. */
  held: number;
}

/**
 * The scheduled sweeper: retry every ledger entry whose next attempt is due, with capped backoff,
 * until `revoked` or `maxAttempts` (then it is flagged for an operator, alerted, and still listed).
 * Pending entries whose writer died are due too, once their safety delay passes.
 * The index it reads lags on AWS: each entry is re-read consistently before acting, and each
 * attempt obeys the same revocation guard (I1) as the workflow — the sweeper never revokes a key a
 * consumer may still hold. An entry restored since the listing is no longer due and is skipped; one
 * being restored or worked by another attempt is held untouched (the claim, see `attemptRevocation`).
 *
 * Input: at most `limit` due entries (earliest due first), `concurrency` secrets worked at once
 * (default 1), `outOfTime` asked before each entry. Output: what became of them.
 * 1. List the due entries; group them by secret, keeping the order they fell due in.
 * 2. Work up to `concurrency` secrets at once, each secret's entries one after the other: every
 *    attempt appends to its secret's audit chain, and one writer per chain never races for its head.
 * 3. When `outOfTime` says so, start nothing more: the entries not started are still due (the
 *    ledger itself is the cursor), counted as `deferred`, and the next run takes them first.
 */
export async function retryRevocations(
  input: { limit: number; outOfTime?: () => boolean; concurrency?: number },
  deps: RevocationDeps,
): Promise<SweepOutput> {
  const due = await deps.ledger.listDue(deps.clock.now(), input.limit);
  const result: SweepOutput = {
    due: due.length,
    deferred: 0,
    revoked: 0,
    failed: 0,
    needsOperator: 0,
    held: 0,
  };
  const bySecret = new Map<string, LedgerEntry[]>();
  for (const entry of due) bySecret.set(entry.secretId, [...(bySecret.get(entry.secretId) ?? []), entry]);
  let timeUp = false;
  // Stop between entries, never mid-call: once out of time, no lane starts another attempt.
  const outOfTime = () => {
    timeUp ||= input.outOfTime?.() ?? false;
    return timeUp;
  };
  await runBounded([...bySecret.values()], input.concurrency ?? 1, async (entries) => {
    for (const [i, entry] of entries.entries()) {
      if (outOfTime()) {
        result.deferred += entries.length - i;
        return;
      }
      const attempt = await attemptRevocation(entry, "sweeper", deps, { sweep: true });
      if (attempt.held) result.held += 1;
      else if (attempt.entry.status === "revoked") result.revoked += 1;
      else if (attempt.entry.needsOperator) result.needsOperator += 1;
      else result.failed += 1;
    }
  });
  return result;
}
