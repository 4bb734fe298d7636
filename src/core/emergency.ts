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
