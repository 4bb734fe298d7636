/**
 * The rules of the exchange request budget (pure but for the sleep it is given): wait for a slot
 * of an account's shared budget before each request, and retry what the exchange refused as over
 * its rate limit with backoff, each retry taking a slot again.
 */
import { ExchangeRetryableError } from "./errors";
import type { BudgetRule, RequestBudget } from "./ports";

export interface BudgetTiming {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Never wait longer than this for a slot or a retry: past it the caller's own retry takes over. */
  maxWaitMs: number;
  /** In [0, 1): spreads waiting callers over the next window (full jitter). */
  random: () => number;
}

/** The window a time falls in, and when the next one opens. */
export function windowOf(nowMs: number, rule: BudgetRule): { window: number; nextAtMs: number } {
  const window = Math.floor(nowMs / rule.windowMs);
  return { window, nextAtMs: (window + 1) * rule.windowMs };
}

/**
 * Waits until `bucket`'s budget grants one request. Refused for longer than `maxWaitMs`: an
 * `ExchangeRetryableError` naming the budget, before any request is sent (the workflow's and the
 * sweeper's retries come back later; nothing was asked of the exchange).
 */
export async function takeRequestSlot(
  budget: RequestBudget,
  bucket: string,
  rule: BudgetRule,
  timing: BudgetTiming,
): Promise<void> {
  const started = timing.now();
  for (;;) {
    const answer = await budget.take(bucket, rule, new Date(timing.now()));
    if (answer.granted) return;
    // Into the next window, spread over its first half so waiting callers do not all wake at once.
    const wait = answer.retryInMs + Math.floor(timing.random() * (rule.windowMs / 2));
    if (timing.now() + wait - started > timing.maxWaitMs) {
      throw new ExchangeRetryableError(
        `request budget of ${bucket} (${rule.limit} per ${rule.windowMs} ms, shared by every keyshift caller) stayed spent for ${timing.maxWaitMs} ms; nothing was sent to the exchange`,
      );
    }
    await timing.sleep(wait);
  }
}

/**
 * Runs `call`, retrying while `rateLimited(err)` says the exchange refused it as over its rate limit
 * (its answer: the wait it asked for in ms, or 0 for none), with capped exponential backoff and full
 * jitter, at most `attempts` calls and never past `maxWaitMs` of waiting. Only for calls that are
 * safe to repeat whole: a rate-limited request was not carried out, but a call of several requests
 * may have carried out the ones before it.
 */
export async function retryRateLimited<T>(
  call: () => Promise<T>,
  rateLimited: (err: unknown) => number | undefined,
  timing: BudgetTiming & { attempts: number; baseMs: number; capMs: number },
): Promise<T> {
  let waited = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const asked = rateLimited(err);
      if (asked === undefined || attempt >= timing.attempts) throw err;
      const backoff = Math.floor(
        timing.random() * Math.min(timing.capMs, timing.baseMs * 2 ** (attempt - 1)),
      );
      const wait = Math.max(asked, backoff);
      if (waited + wait > timing.maxWaitMs) throw err;
      waited += wait;
      await timing.sleep(wait);
    }
  }
}
