import type { ConsumerInstance, ConsumerRegistration, SecretSettings } from "./model";

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

/** An instance is live while its last heartbeat is younger than `multiplier` heartbeat intervals. */
export function isLive(
  instance: ConsumerInstance,
  consumer: ConsumerRegistration,
  now: Date,
  multiplier: number,
): boolean {
  const ageMs = now.getTime() - Date.parse(instance.lastSeenAt);
  return ageMs <= consumer.heartbeatIntervalSeconds * multiplier * 1000;
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
  settings: Pick<SecretSettings, "minOverlapSeconds" | "livenessMultiplier">;
  now: Date;
}): Readiness {
  const { consumers, instances, currentFingerprint, settings, now } = input;
  const lagging: LaggingConsumer[] = [];
  for (const consumer of consumers) {
    if (!consumer.required) continue;
    const live = instances.filter(
      (i) => i.consumerId === consumer.consumerId && isLive(i, consumer, now, settings.livenessMultiplier),
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

/** Upper bound on consumer checks one rotation can make before its deadline. */
export function maxChecks(
  settings: Pick<SecretSettings, "pollIntervalSeconds" | "maxPollIntervalSeconds" | "deadlineSeconds">,
): number {
  let elapsed = 0;
  let checks = 0;
  while (elapsed < settings.deadlineSeconds) {
    elapsed += nextWaitSeconds(settings, checks, settings.deadlineSeconds - elapsed, 0);
    checks += 1;
  }
  return checks + 1;
}
