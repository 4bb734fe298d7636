import type { LockRecord, SecretSettings } from "../model";
import { nextScheduledStartIn } from "../schedule-timezone";

/** Slow while nothing happens: what a consumer instance costs most of the month. */
export const DEFAULT_IDLE_HEARTBEAT_SECONDS = 300;
/** Fast while a rotation waits for consumers: confirmation within a few seconds. */
export const DEFAULT_ACTIVE_HEARTBEAT_SECONDS = 5;
/** How late after its promised time an instance may be and still count as live. */
export const DEFAULT_LIVENESS_GRACE_SECONDS = 30;
/** After a scheduled start, instances come back this much later: the lock is taken by then. */
export const SCHEDULED_START_MARGIN_SECONDS = 5;
/**
 * For this long after a scheduled start the fleet stays fast even when no rotation is seen yet:
 * EventBridge may deliver the start late (it retries), and a `rate(...)` phase is approximate.
 */
export const DUE_WINDOW_SECONDS = 600;

export type HeartbeatStatus = "current" | "stale" | "unknown";

/** The heartbeat settings of a secret with the defaults applied (older SETTINGS items lack them). */
export interface HeartbeatIntervals {
  idleHeartbeatSeconds: number;
  activeHeartbeatSeconds: number;
  livenessGraceSeconds: number;
}

export function heartbeatIntervals(settings: Partial<SecretSettings> | undefined): HeartbeatIntervals {
  return {
    idleHeartbeatSeconds: settings?.idleHeartbeatSeconds ?? DEFAULT_IDLE_HEARTBEAT_SECONDS,
    activeHeartbeatSeconds: settings?.activeHeartbeatSeconds ?? DEFAULT_ACTIVE_HEARTBEAT_SECONDS,
    livenessGraceSeconds: settings?.livenessGraceSeconds ?? DEFAULT_LIVENESS_GRACE_SECONDS,
  };
}

/**
 * When the instance should come back (`nextHeartbeatSeconds`), the server's side of the AppConfig
 * `Next-Poll-Interval` pattern:
 * 1. `stale`: at once (0) — refresh and report, so confirmation takes one round trip.
 * 2. `unknown`: the active interval — it was told to refresh; answering 0 to a key that stays
 *    unknown would spin it.
 * 3. A rotation of the secret holds the lock (and is not stalled): the active interval.
 * 4. Within the due window after a scheduled start: the active interval (the start may be late).
 * 5. Otherwise the idle interval, shortened so the instance returns just after the next scheduled
 *    start when that falls within it.
 */
export function nextHeartbeatSeconds(input: {
  status: HeartbeatStatus;
  settings: Partial<SecretSettings> | undefined;
  lock: LockRecord | undefined;
  now: Date;
}): number {
  const { status, settings, lock, now } = input;
  const intervals = heartbeatIntervals(settings);
  if (status === "stale") return 0;
  const active = Math.max(1, intervals.activeHeartbeatSeconds);
  if (status === "unknown" || (lock && !lock.stalled)) return active;
  const idle = Math.max(active, intervals.idleHeartbeatSeconds);
  // A disabled schedule starts nothing: no wake-up for it.
  if (!settings?.schedule || settings.scheduleEnabled === false) return idle;
  const anchor = settings.enrolledAt ? new Date(settings.enrolledAt) : undefined;
  const lookBack = new Date(now.getTime() - DUE_WINDOW_SECONDS * 1000);
  const zone = settings.scheduleTimezone;
  const recent = nextScheduledStartIn(settings.schedule, zone, lookBack, anchor);
  if (recent && recent.getTime() <= now.getTime()) return active;
  const upcoming = recent ?? nextScheduledStartIn(settings.schedule, zone, now, anchor);
  if (!upcoming) return idle;
  const untilStart = Math.ceil((upcoming.getTime() - now.getTime()) / 1000) + SCHEDULED_START_MARGIN_SECONDS;
  return Math.max(active, Math.min(idle, untilStart));
}

/** The instant an instance promised to be back by, as stored on its row (liveness reads it). */
export function expectedBy(now: Date, nextSeconds: number): string {
  return new Date(now.getTime() + nextSeconds * 1000).toISOString();
}
