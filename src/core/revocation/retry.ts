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
 */
export async function retryRevocations(
  input: { limit: number; outOfTime?: () => boolean },
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
  for (const [i, entry] of due.entries()) {
    // Stop between entries, never mid-call: what is left is still due for the next run.
    if (input.outOfTime?.()) {
      result.deferred = due.length - i;
      break;
    }
    const attempt = await attemptRevocation(entry, "sweeper", deps, { sweep: true });
    if (attempt.held) result.held += 1;
    else if (attempt.entry.status === "revoked") result.revoked += 1;
    else if (attempt.entry.needsOperator) result.needsOperator += 1;
    else result.failed += 1;
  }
  return result;
}
