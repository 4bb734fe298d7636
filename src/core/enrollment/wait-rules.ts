import { EVENTS_PER_CHECK, MAX_DEADLINE_SECONDS, MAX_WAIT_EVENTS, maxChecks } from "../revocation/readiness";
import { LEASE_MARGIN_SECONDS } from "./schedule-rules";

/**
 * The rules of a secret's wait for its consumers, as pure verdicts: each answers the problem in
 * words, or undefined. Their numbers come from the core (revocation/readiness.ts, rotation/lock.ts),
 * never restated.
 */

/**
 * The longest deadline an entry may set: `MAX_DEADLINE_SECONDS` (what `enroll` accepts), and the
 * wait, the lock lease and the last steps must end before the execution's `TimeoutSeconds`.
 */
export function deadlineBound(executionTimeoutSeconds: number): number {
  return Math.min(MAX_DEADLINE_SECONDS, executionTimeoutSeconds - LEASE_MARGIN_SECONDS);
}

export function deadlineProblem(
  deadlineSeconds: number,
  executionTimeoutSeconds: number,
): string | undefined {
  const bound = deadlineBound(executionTimeoutSeconds);
  if (deadlineSeconds <= bound) return undefined;
  return (
    `must be at most ${bound} (what enroll accepts: the wait, the lock ` +
    `lease and the last steps must end before the execution's TimeoutSeconds ${executionTimeoutSeconds})`
  );
}

/** The shortest overlap that outlasts every cache (`cacheTtlSeconds`) and the idle heartbeat interval. */
export function overlapNeededSeconds(idleHeartbeatSeconds: number, longestCacheTtlSeconds: number): number {
  return Math.max(idleHeartbeatSeconds, longestCacheTtlSeconds);
}

/**
 * Every live instance is heard from, and every cache refreshed, before the overlap ends: the
 * overlap covers the consumers' cache TTL and the idle heartbeat interval.
 */
export function overlapProblem(
  minOverlapSeconds: number,
  idleHeartbeatSeconds: number,
  cacheTtlSeconds: number,
): string | undefined {
  const needed = overlapNeededSeconds(idleHeartbeatSeconds, cacheTtlSeconds);
  if (minOverlapSeconds >= needed) return undefined;
  return (
    `${minOverlapSeconds} does not cover the consumers' cache TTL (${cacheTtlSeconds}s) ` +
    `and the idle heartbeat interval (idleHeartbeatSeconds ${idleHeartbeatSeconds}s): set it to at least ${needed}, ` +
    "or lower idleHeartbeatSeconds / consumer.cacheTtlSeconds"
  );
}

/** History events the wait loop can write before the deadline (`maxChecks` of the core). */
export function waitLoopEvents(settings: {
  pollIntervalSeconds: number;
  maxPollIntervalSeconds: number;
  deadlineSeconds: number;
}): number {
  return maxChecks(settings) * EVENTS_PER_CHECK;
}

/** The wait loop stays within its share of a Standard execution's 25,000-event history. */
export function historyBudgetProblem(settings: {
  pollIntervalSeconds: number;
  maxPollIntervalSeconds: number;
  deadlineSeconds: number;
}): string | undefined {
  const events = waitLoopEvents(settings);
  if (events <= MAX_WAIT_EVENTS) return undefined;
  return (
    `the wait loop could write ${events} history events before the deadline ` +
    `(budget ${MAX_WAIT_EVENTS} of 25,000): raise maxPollIntervalSeconds or shorten deadlineSeconds`
  );
}
