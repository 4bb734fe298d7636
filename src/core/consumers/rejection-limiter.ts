/** A rejected principal is audited at most once per this many seconds per container. */
export const REJECTION_AUDIT_WINDOW_SECONDS = 300;
/** Principals remembered at once; the oldest is forgotten first (a flood of names cannot grow it). */
const MAX_PRINCIPALS = 10_000;

/**
 * Decides which rejected heartbeats are audited. Every rejection is counted (the handler logs it
 * for the `HeartbeatRejections` metric and its alarm); the audit gets the first one of a principal,
 * then at most one per window carrying how many were left out since — so a caller with invoke
 * rights cannot turn requests into audit writes, and the trail still says who knocked and how often.
 * One per container, in memory: across containers the bound multiplies by their number, no more.
 */
export class RejectionLimiter {
  private readonly principals = new Map<string, { recordedAt: number; suppressed: number }>();

  constructor(private readonly windowSeconds = REJECTION_AUDIT_WINDOW_SECONDS) {}

  /** Whether this rejection is to be audited, and how many of the principal's were not since the last. */
  check(principal: string, now: Date): { record: boolean; suppressed: number } {
    const seen = this.principals.get(principal);
    if (seen && now.getTime() - seen.recordedAt < this.windowSeconds * 1000) {
      seen.suppressed += 1;
      return { record: false, suppressed: seen.suppressed };
    }
    return { record: true, suppressed: seen?.suppressed ?? 0 };
  }

  /** The audit entry was written: the window starts again, the count with it. */
  recorded(principal: string, now: Date): void {
    this.principals.delete(principal);
    this.principals.set(principal, { recordedAt: now.getTime(), suppressed: 0 });
    if (this.principals.size > MAX_PRINCIPALS) {
      const oldest = this.principals.keys().next().value;
      if (oldest !== undefined) this.principals.delete(oldest);
    }
  }
}
