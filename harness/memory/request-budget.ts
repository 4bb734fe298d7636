import type { BudgetAnswer, BudgetRule, RequestBudget } from "../../src/core/ports";
import { windowOf } from "../../src/core/request-budget";

/** What every `InMemoryRequestBudget` over one table shares: the buckets, as the rotations table holds them. */
export type BudgetTable = Map<string, { window: number; granted: number }>;

/**
 * The request budget in memory. Callers that share a `table` share budgets, as Lambdas share the
 * DynamoDB item; the same two conditional steps as `DynamoRequestBudget`, proven equal by
 * test/contract/ports/request-budget.suite.ts.
 */
export class InMemoryRequestBudget implements RequestBudget {
  constructor(readonly table: BudgetTable = new Map()) {}

  async take(bucket: string, rule: BudgetRule, now: Date): Promise<BudgetAnswer> {
    const { window, nextAtMs } = windowOf(now.getTime(), rule);
    const item = this.table.get(bucket);
    if (item && item.window === window && item.granted < rule.limit) {
      item.granted += 1;
      return { granted: true };
    }
    if (!item || item.window < window) {
      this.table.set(bucket, { window, granted: 1 });
      return { granted: true };
    }
    return { granted: false, retryInMs: Math.max(1, nextAtMs - now.getTime()) };
  }
}
