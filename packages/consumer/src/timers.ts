import { RequestTimeoutError } from "./errors.js";
import type { ConsumerTimers } from "./options.js";

/** Node fires a timer set beyond this at once (with a warning): never hand it more. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Real timers that never keep the process alive: a consumer must not block a service's shutdown. */
export const nodeTimers: ConsumerTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS)).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Runs `work` with a signal and settles with it, or rejects with `RequestTimeoutError` after `ms`:
 * whichever comes first. The work is told through the signal (fetch and the AWS SDK abort their
 * request), but the caller never depends on it listening: a client that ignores the signal is
 * abandoned all the same. So every read and heartbeat ends within its bound, and `stop()`, which
 * waits for work in flight, returns within it too.
 */
export function bounded<T>(
  work: (signal: AbortSignal) => Promise<T>,
  opts: { what: string; ms: number; timers: ConsumerTimers },
): Promise<T> {
  const call = new AbortController();
  const abandoned = new Promise<never>((_, reject) => {
    call.signal.addEventListener("abort", () => reject(call.signal.reason), { once: true });
  });
  const timer = opts.timers.setTimeout(
    () => call.abort(new RequestTimeoutError(`${opts.what} did not answer within ${opts.ms} ms`)),
    opts.ms,
  );
  return Promise.race([Promise.resolve().then(() => work(call.signal)), abandoned]).finally(() =>
    opts.timers.clearTimeout(timer),
  );
}
