/**
 * Each exchange's documented request limits as keyshift budgets them per account, and the answers
 * by which it says a request was over them. Sources and the reasoning per exchange: docs/exchanges.md,
 * "Request budget". Every budget is one per account, shared by all of keyshift's callers, set at
 * or below the strictest documented per-account limit of the endpoints keyshift calls.
 */
import type { BudgetRule } from "../../core/ports";

const budgets: Record<string, BudgetRule> = {
  // Credit pool per sub-account: 500 credits a non-matching request, refill 10,000/s (20 req/s
  // sustained, burst 100) at the lowest tier. Half of it: a fixed window may pass twice its limit
  // across a boundary, and that stays inside the burst.
  deribit: { limit: 10, windowMs: 1000 },
  // Per UID per second: create-sub-api 1/s (the strictest), delete-sub-api 5/s, query 10/s.
  bybit: { limit: 1, windowMs: 1000 },
  // Per User ID: create, reset, delete an API key 1 request/s; query 20 requests/2 s.
  okx: { limit: 1, windowMs: 1000 },
  // /sapi UID-limited endpoints: 180,000 weight per minute each; creating a sub-account key weighs
  // 3,000 (60 a minute).
  binance: { limit: 1, windowMs: 1000 },
  // Sub-account endpoints: ccxt costs them at 8 requests/s per UID; private endpoints 200 per 10 s
  // each (Gate's rate-limit announcement of 2024-01-14). Half of the strictest.
  gate: { limit: 4, windowMs: 1000 },
};

/** By exchange name; a harness may add its own simulator's (`registerRequestBudget`). */
export const REQUEST_BUDGETS: Readonly<Record<string, BudgetRule>> = budgets;

/**
 * For a harness only: the budget of its own protocol (the local stack's `keyshift-sim`, whose
 * figures are the bench's to choose). A real exchange's documented budget cannot be replaced.
 */
export function registerRequestBudget(name: string, rule: BudgetRule): void {
  if (Object.hasOwn(RATE_LIMIT_CODES, name)) {
    throw new Error(`the request budget of ${name} is a real exchange's and cannot be replaced`);
  }
  budgets[name] = rule;
}

/** Exchanges keyshift knows no documented per-account figure for (Kraken's counter, the simulator). */
export const DEFAULT_REQUEST_BUDGET: BudgetRule = { limit: 1, windowMs: 1000 };

/** The exchange codes that mean "over the rate limit" (HTTP 429 means it on every exchange). */
export const RATE_LIMIT_CODES: Readonly<Record<string, readonly string[]>> = {
  deribit: ["10028"], // too_many_requests
  bybit: ["10006"], // Too many visits!
  okx: ["50011"], // Rate limit reached (HTTP 429)
  binance: ["-1003"], // Too many requests (HTTP 429; 418 is an IP ban and is not retried here)
  gate: ["TOO_MANY_REQUESTS", "TOO_FAST"], // labels (HTTP 429)
};
