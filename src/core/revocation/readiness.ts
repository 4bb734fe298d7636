import { heartbeatIntervals } from "../consumers/heartbeat-policy";
import type { ConsumerInstance, ConsumerRegistration, SecretSettings, VersionFingerprints } from "../model";

/** At most this many lagging consumers travel in state data (256 KiB cap); the rest are counted. */
export const MAX_LAGGING_IN_STATE = 20;

export type LagReason = "no-live-instance" | "on-other-fingerprint" | "mixed-fingerprints";

export interface LaggingConsumer {
  consumerId: string;
  reason: LagReason;
  liveInstances: number;
  /** Fingerprints the live instances report (at most 3), never values. */
  fingerprints: string[];
}

export interface Readiness {
  ready: boolean;
  lagging: LaggingConsumer[];
  laggingCount: number;
  overlapRemainingSeconds: number;
}

/**
 * Liveness follows what the server told the instance: live while `now <= expectedBy + grace`, so a
 * slow idle instance is not taken for dead and a fast one is not kept alive by an old promise.
 * Rows written before `expectedBy` existed keep the rule they were written under: live while the
 * last heartbeat is younger than `livenessMultiplier` of the consumer's heartbeat intervals.
 */
export function isLive(
  instance: ConsumerInstance,
  consumer: ConsumerRegistration,
  now: Date,
  settings: Pick<SecretSettings, "livenessMultiplier" | "livenessGraceSeconds">,
): boolean {
  if (instance.expectedBy !== undefined) {
    const graceMs = heartbeatIntervals(settings).livenessGraceSeconds * 1000;
    return now.getTime() <= Date.parse(instance.expectedBy) + graceMs;
  }
  const ageMs = now.getTime() - Date.parse(instance.lastSeenAt);
  return ageMs <= consumer.heartbeatIntervalSeconds * settings.livenessMultiplier * 1000;
}

/**
 * The gate as operators read it (`keyshift status`, `keyshift list`): against the recorded current
 * version, or undefined before anything is recorded.
 */
export function readinessOfRecorded(input: {
  consumers: ConsumerRegistration[];
  instances: ConsumerInstance[];
  versions: VersionFingerprints | undefined;
  settings: SecretSettings;
  now: Date;
}): Readiness | undefined {
  const { versions, ...rest } = input;
  if (!versions?.current) return undefined;
  return evaluateReadiness({
    ...rest,
    currentFingerprint: versions.current.fingerprint,
    promotedAt: new Date(versions.promotedAt ?? 0),
  });
}

/**
 * The gate in front of every revocation.
 * Ready means: every required consumer has at least one live instance on `currentFingerprint`
 * and no live instance on anything else, and `minOverlapSeconds` have passed since promotion.
 * Silence is never confirmation: a required consumer with no live instance is lagging.
 */
export function evaluateReadiness(input: {
  consumers: ConsumerRegistration[];
  instances: ConsumerInstance[];
  currentFingerprint: string;
  promotedAt: Date;
  settings: Pick<SecretSettings, "minOverlapSeconds" | "livenessMultiplier" | "livenessGraceSeconds">;
  now: Date;
}): Readiness {
  const { consumers, instances, currentFingerprint, settings, now } = input;
  // One pass over the instances (a secret may have thousands), grouped by consumer.
  const byConsumer = new Map<string, ConsumerInstance[]>();
  for (const i of instances) {
    const group = byConsumer.get(i.consumerId);
    if (group) group.push(i);
    else byConsumer.set(i.consumerId, [i]);
  }
  const lagging: LaggingConsumer[] = [];
  for (const consumer of consumers) {
    if (!consumer.required) continue;
    const live = (byConsumer.get(consumer.consumerId) ?? []).filter((i) =>
      isLive(i, consumer, now, settings),
    );
    const fingerprints = [...new Set(live.map((i) => i.fingerprint))].sort();
    const onCurrent = fingerprints.includes(currentFingerprint);
    const onOther = fingerprints.some((f) => f !== currentFingerprint);
    if (live.length === 0) {
      lagging.push({
        consumerId: consumer.consumerId,
        reason: "no-live-instance",
        liveInstances: 0,
        fingerprints,
      });
    } else if (onOther) {
      lagging.push({
        consumerId: consumer.consumerId,
        reason: onCurrent ? "mixed-fingerprints" : "on-other-fingerprint",
        liveInstances: live.length,
        fingerprints: fingerprints.slice(0, 3),
      });
    }
  }
  lagging.sort((a, b) => a.consumerId.localeCompare(b.consumerId));
  const elapsedSeconds = (now.getTime() - input.promotedAt.getTime()) / 1000;
  const overlapRemainingSeconds = Math.max(0, Math.ceil(settings.minOverlapSeconds - elapsedSeconds));
  return {
    ready: lagging.length === 0 && overlapRemainingSeconds === 0,
    lagging: lagging.slice(0, MAX_LAGGING_IN_STATE),
    laggingCount: lagging.length,
    overlapRemainingSeconds,
  };
}

/**
 * Next wait in the consumer loop: starts at `pollIntervalSeconds`, grows 1.5x per check up to
 * `maxPollIntervalSeconds`, never past the deadline and never shorter than 1 s. Growing the
 * interval keeps a long wait far below a Standard execution's 25,000-event history.
 */
export function nextWaitSeconds(
  settings: Pick<SecretSettings, "pollIntervalSeconds" | "maxPollIntervalSeconds">,
  iteration: number,
  secondsToDeadline: number,
  overlapRemainingSeconds: number,
): number {
  const grown = Math.min(settings.maxPollIntervalSeconds, settings.pollIntervalSeconds * 1.5 ** iteration);
  const wanted = overlapRemainingSeconds > 0 ? Math.min(grown, overlapRemainingSeconds) : grown;
  return Math.max(1, Math.ceil(Math.min(wanted, Math.max(1, secondsToDeadline))));
}

/** History events one wait-loop iteration costs (Task 5, Choice 2, Wait 2), rounded up. */
export const EVENTS_PER_CHECK = 10;
/** Budget for the wait loop out of the 25,000-event Standard execution history. */
export const MAX_WAIT_EVENTS = 20_000;

/**
 * The longest `deadlineSeconds` enrollment accepts: 13 days. The rotation ASL's `TimeoutSeconds` is
 * 14 days, and the execution must reach MarkStalled (lock lease = deadline + 1 h, then the last
 * steps) rather than time out. The one bound for `enrollSecret` and the config check, which
 * imports it (`core/enrollment/wait-rules.ts`).
 */
export const MAX_DEADLINE_SECONDS = 13 * 24 * 3600;

/**
 * Past this many growing waits the interval can no longer be growing: 1.5^4000 exceeds the ratio of
 * any two positive doubles, so only a poll interval <= 0 (a wait of 1 s, forever) gets here.
 */
const MAX_GROWING_WAITS = 4000;

/**
 * Upper bound on consumer checks one rotation can make before its deadline: the checks the wait
 * loop of `nextWaitSeconds` makes, plus the final one. Closed form once the interval stops growing
 * (every wait is then the cap, the last one clipped to the deadline), so the cost does not depend
 * on the deadline: a validator must be able to ask about any number it is given.
 */
export function maxChecks(
  settings: Pick<SecretSettings, "pollIntervalSeconds" | "maxPollIntervalSeconds" | "deadlineSeconds">,
): number {
  const { pollIntervalSeconds, maxPollIntervalSeconds, deadlineSeconds } = settings;
  // No count bounds these: the budget check that follows must refuse them.
  if (Number.isNaN(pollIntervalSeconds) || Number.isNaN(maxPollIntervalSeconds))
    return Number.POSITIVE_INFINITY;
  if (!(deadlineSeconds < Number.POSITIVE_INFINITY)) return Number.POSITIVE_INFINITY;
  let elapsed = 0;
  let checks = 0;
  // While the interval grows: at most log1.5(max / poll) waits, each one counted.
  while (elapsed < deadlineSeconds && checks < MAX_GROWING_WAITS) {
    if (pollIntervalSeconds * 1.5 ** checks >= maxPollIntervalSeconds) break;
    elapsed += nextWaitSeconds(settings, checks, deadlineSeconds - elapsed, 0);
    checks += 1;
  }
  if (elapsed < deadlineSeconds) {
    // From here every wait is the same (the cap, or 1 s when the interval never grows), except
    // the last, which is clipped to the deadline: ceil(left / wait) more checks.
    const wait = checks < MAX_GROWING_WAITS ? Math.max(1, Math.ceil(maxPollIntervalSeconds)) : 1;
    checks += Math.max(1, Math.ceil((deadlineSeconds - elapsed) / wait));
  }
  return checks + 1;
}
