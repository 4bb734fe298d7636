/**
 * Work over many items with at most `concurrency` in flight (pure, no timers): the fleet-wide jobs
 * (hygiene audit, sweeper, list, drift check) read thousands of secrets, one call chain each, and a
 * series of them would not fit a Lambda's 15 minutes while all at once would open thousands of
 * requests together.
 */
export interface BoundedRun<T> {
  /** Items whose work was started (and finished: every started one is awaited). */
  started: T[];
  /** Items never started because `stop` said so: the caller saves them for the next run. */
  left: T[];
}

/**
 * Runs `work` over `items` in order with at most `concurrency` in flight. `stop`, asked before each
 * item is started, ends the run between items, never mid-item: what is left is returned untouched.
 * The first error of `work` is thrown once every started item has settled (none is abandoned
 * half-way while its caller moves on).
 */
export async function runBounded<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
  stop?: () => boolean,
): Promise<BoundedRun<T>> {
  let next = 0;
  let stopped = false;
  let failure: { err: unknown } | undefined;
  const lane = async () => {
    while (next < items.length && !stopped && !failure) {
      if (stop?.()) {
        stopped = true;
        break;
      }
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failure) throw failure.err;
  return { started: items.slice(0, next), left: items.slice(next) };
}
