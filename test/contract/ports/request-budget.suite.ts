/**
 * The `RequestBudget` port: a per-bucket budget of `limit` requests per window, shared by every
 * caller (two adapters over one table are two Lambdas), exact under races (conditional writes).
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { BudgetRule, RequestBudget } from "../../../src/core/ports";
import type { PortTarget } from "./support";

const RULE: BudgetRule = { limit: 5, windowMs: 1000 };
/** A window boundary, far from any other test's. */
const T = Date.parse("2031-03-01T00:00:00.000Z");
const at = (ms: number) => new Date(T + ms);

export function requestBudgetContract(
  target: PortTarget<RequestBudget> & { anotherCaller(): RequestBudget },
): void {
  describe(`RequestBudget (${target.name})`, () => {
    let budget: RequestBudget;
    beforeEach(() => {
      budget = target.make();
    });

    it("grants `limit` requests in a window, refuses the next until the window ends, then grants again", async () => {
      const bucket = target.id("window");
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await budget.take(bucket, RULE, at(100 + i)));

      expect(answers.slice(0, 5)).toEqual(Array(5).fill({ granted: true }));
      expect(answers[5]).toEqual({ granted: false, retryInMs: 895 });
      expect(await budget.take(bucket, RULE, at(1000))).toEqual({ granted: true });
    });

    it("is shared by two callers: of many racing requests, exactly `limit` are granted; another bucket is its own", async () => {
      const bucket = target.id("shared");
      const other = target.id("other");
      const second = target.anotherCaller();

      const raced = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? second : budget).take(bucket, RULE, at(2000 + i))),
      );

      expect(raced.filter((a) => a.granted)).toHaveLength(5);
      expect(await second.take(bucket, RULE, at(2500))).toMatchObject({ granted: false });
      expect(await second.take(other, RULE, at(2500))).toEqual({ granted: true });
    });

    it("a caller whose clock is behind cannot reopen a window already past", async () => {
      const bucket = target.id("skew");
      expect(await budget.take(bucket, RULE, at(5000))).toEqual({ granted: true });

      expect(await target.anotherCaller().take(bucket, RULE, at(4999))).toEqual({
        granted: false,
        retryInMs: 1,
      });
    });
  });
}
