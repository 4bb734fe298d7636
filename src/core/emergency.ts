import { DEFAULT_EMERGENCY_DEADLINE_SECONDS, type RotationRecord, type SecretSettings } from "./model";

/** An emergency's checks come at least this often, so a consumer that switched is seen within seconds. */
const EMERGENCY_POLL_SECONDS = 5;
const EMERGENCY_MAX_POLL_SECONDS = 15;

/**
 * The settings a rotation runs under. An emergency rotation (suspected compromise) waits for no
 * overlap, checks consumers every few seconds and has the short emergency deadline; every other
 * rotation runs under the secret's enrolled settings. One function, so the wait loop,
 * RevokePrevious and the revocation guard judge an emergency the same way.
 */
export function settingsFor(
  settings: SecretSettings,
  rotation: Pick<RotationRecord, "emergency"> | undefined,
): SecretSettings {
  if (!rotation?.emergency) return settings;
  return {
    ...settings,
    minOverlapSeconds: 0,
    deadlineSeconds: settings.emergencyDeadlineSeconds ?? DEFAULT_EMERGENCY_DEADLINE_SECONDS,
    pollIntervalSeconds: Math.min(settings.pollIntervalSeconds, EMERGENCY_POLL_SECONDS),
    maxPollIntervalSeconds: Math.min(settings.maxPollIntervalSeconds, EMERGENCY_MAX_POLL_SECONDS),
  };
}

/** The emergency's deadline has passed: the previous key goes even if consumers lag. */
export function emergencyDeadlinePassed(
  rotation: Pick<RotationRecord, "emergency" | "deadlineAt">,
  now: Date,
): boolean {
  return Boolean(
    rotation.emergency && rotation.deadlineAt && Date.parse(rotation.deadlineAt) <= now.getTime(),
  );
}

/**
 * When an emergency rotation stops waiting: `emergencyDeadlineSeconds` after it was started, less
 * a margin for the revocation call itself, so the previous key is dead by start + the deadline —
 * "invalidated within minutes", counted from the operator's command, not from the promotion.
 */
export function emergencyDeadlineAt(
  emergency: NonNullable<RotationRecord["emergency"]>,
  settings: Pick<SecretSettings, "emergencyDeadlineSeconds">,
): string {
  const seconds = settings.emergencyDeadlineSeconds ?? DEFAULT_EMERGENCY_DEADLINE_SECONDS;
  const margin = Math.min(10, seconds / 4);
  return new Date(Date.parse(emergency.requestedAt) + (seconds - margin) * 1000).toISOString();
}
