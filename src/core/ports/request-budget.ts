/** The exchange request budget (rotations table, one item per exchange account). */

/** At most `limit` requests in each window of `windowMs` (windows aligned on the epoch). */
export interface BudgetRule {
  limit: number;
  windowMs: number;
}

export type BudgetAnswer = { granted: true } | { granted: false; retryInMs: number };

/**
 * A request budget shared by every caller of an exchange account — every Lambda, the CLI — so that
 * many rotations on one account stay inside the exchange's documented limits. Each `take` is one
 * conditional write: of callers racing in one window, exactly `limit` are granted.
 */
export interface RequestBudget {
  /**
   * One request against `bucket`'s budget in the window `now` falls in. Granted, or refused with
   * how long until the next window (nothing written).
   */
  take(bucket: string, rule: BudgetRule, now: Date): Promise<BudgetAnswer>;
}
