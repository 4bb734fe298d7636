/**
 * Sweeper backoff for a failed revocation: exponential from `baseSeconds`, capped at `capSeconds`,
 * with full jitter drawn from `random` (injected so tests are deterministic).
 */
export function revocationBackoffSeconds(
  attempts: number,
  opts: { baseSeconds: number; capSeconds: number; random: () => number },
): number {
  const ceiling = Math.min(opts.capSeconds, opts.baseSeconds * 2 ** Math.max(0, attempts - 1));
  // Full jitter, but never below half the ceiling so a burst of failures cannot hammer the exchange.
  return Math.ceil(ceiling / 2 + (opts.random() * ceiling) / 2);
}
