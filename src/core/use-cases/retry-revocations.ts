import type { Deps } from "./deps";
import { attemptRevocation } from "./revocation";

export interface SweepOutput {
  due: number;
  /** Due entries left for the next run because the time budget ran out. */
  deferred: number;
  revoked: number;
  failed: number;
  needsOperator: number;
}

/**
 * The scheduled sweeper: retry every ledger entry whose next attempt is due, with capped backoff,
 * until `revoked` or `maxAttempts` (then it is flagged for an operator, alerted, and still listed).
 * Pending entries whose writer died are due too, once their safety delay passes.
 */
export async function retryRevocations(
  input: { limit: number; outOfTime?: () => boolean },
  deps: Pick<Deps, "ledger" | "exchange" | "audit" | "alerts" | "clock" | "revocation">,
): Promise<SweepOutput> {
  const due = await deps.ledger.listDue(deps.clock.now(), input.limit);
  const result: SweepOutput = { due: due.length, deferred: 0, revoked: 0, failed: 0, needsOperator: 0 };
  for (const [i, entry] of due.entries()) {
    // Stop between entries, never mid-call: what is left is still due for the next run.
    if (input.outOfTime?.()) {
      result.deferred = due.length - i;
      break;
    }
    const attempt = await attemptRevocation(entry, "sweeper", deps);
    if (attempt.entry.status === "revoked") result.revoked += 1;
    else if (attempt.entry.needsOperator) result.needsOperator += 1;
    else result.failed += 1;
  }
  return result;
}
