/**
 * When to heartbeat and when to read Secrets Manager again. Pure functions of their inputs (the
 * random draw is passed in), so the schedule is testable without timers.
 */

/** Share of an interval or TTL taken off at random, so a fleet started together does not act together. */
export const INTERVAL_JITTER = 0.1;
export const TTL_JITTER = 0.2;
const BACKOFF_BASE_MS = 1000;

/**
 * The delay before the next heartbeat, from the server's `nextHeartbeatSeconds`.
 * 0 means "again at once" and is honoured once; until the server asks for a real interval again,
 * a further 0 waits the floor: a server (or a proxy) answering 0 forever must not turn a consumer
 * into a busy loop. Otherwise the interval is clamped to [min, max] and shortened (never lengthened)
 * by up to 10%: liveness is judged against what the server said, so arriving a little early is
 * always safe and arriving late never is.
 */
export function heartbeatDelayMs(
  serverSeconds: number | undefined,
  opts: { zeroHonoured: boolean; minMs: number; maxMs: number; fallbackMs: number; random: number },
): number {
  if (serverSeconds === 0 && !opts.zeroHonoured) return 0;
  const asked =
    serverSeconds === undefined || !Number.isFinite(serverSeconds) || serverSeconds < 0
      ? opts.fallbackMs
      : serverSeconds * 1000;
  const clamped = Math.min(opts.maxMs, Math.max(opts.minMs, asked));
  return Math.round(clamped * (1 - INTERVAL_JITTER * opts.random));
}

/**
 * When to beat again after an answer, and whether the one "at once" is now spent. Two things ask for
 * at once: the server's 0, and a fingerprint held that the server has not heard yet (report a new key
 * now, not one interval later). Either gets ONE immediate beat; until the server asks for a real
 * interval again, a further "at once" waits the floor. So a server answering `stale`/0 while Secrets
 * Manager flaps between two values costs about one heartbeat per floor, not a busy loop.
 */
export function nextBeat(
  serverSeconds: number | undefined,
  opts: {
    atOnceSpent: boolean;
    unreported: boolean;
    minMs: number;
    maxMs: number;
    fallbackMs: number;
    random: number;
  },
): { delayMs: number; atOnceSpent: boolean } {
  const wantsAtOnce = serverSeconds === 0 || opts.unreported;
  if (wantsAtOnce && !opts.atOnceSpent) return { delayMs: 0, atOnceSpent: true };
  const delayMs = heartbeatDelayMs(wantsAtOnce ? 0 : serverSeconds, { ...opts, zeroHonoured: true });
  return { delayMs, atOnceSpent: wantsAtOnce };
}

/**
 * Wait after the n-th consecutive failure: doubling from 1 s up to `capMs`, with "equal jitter"
 * (half fixed, half random) so a fleet that failed together spreads out, yet never retries at once.
 */
export function backoffDelayMs(consecutiveErrors: number, opts: { capMs: number; random: number }): number {
  const ceiling = Math.min(opts.capMs, BACKOFF_BASE_MS * 2 ** Math.max(0, consecutiveErrors - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * opts.random);
}

/**
 * When a value read at `loadedAt` must be read again: within its TTL, never after it (the TTL is the
 * staleness an operator sized `minOverlapSeconds` for), up to 20% sooner at random. The value is
 * served while that read runs, so it may outlive the TTL by one read (bounded by `requestTimeoutMs`).
 */
export function refreshAtMs(loadedAt: number, ttlMs: number, random: number): number {
  return loadedAt + Math.round(ttlMs * (1 - TTL_JITTER * random));
}
