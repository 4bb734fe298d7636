import {
  DEFAULT_EMERGENCY_DEADLINE_SECONDS,
  type EmergencyRecord,
  type RotationRecord,
  type SecretSettings,
} from "../model";

/** An emergency's checks come at least this often, so a consumer that switched is seen within seconds. */
const EMERGENCY_POLL_SECONDS = 5;
const EMERGENCY_MAX_POLL_SECONDS = 15;

type EmergencyView = Pick<RotationRecord, "emergency" | "previous">;

/** The emergency names this key as compromised: only such a key may be revoked under its break-glass. */
export function emergencyCovers(
  rotation: Pick<RotationRecord, "emergency"> | undefined,
  keyId: string,
): boolean {
  return Boolean(rotation?.emergency?.keyIds?.includes(keyId));
}

/**
 * The emergency governs this rotation: before promotion always (the key it will retire is the one
 * that was current), after it only while the previous key — the one the wait is about — is a key
 * the emergency names. After a rollback the previous key is the abandoned new one: the rotation
 * is then an ordinary one again (overlap, deadline, gate; never a break-glass), see break 6.
 */
export function emergencyInForce(rotation: EmergencyView | undefined): boolean {
  if (!rotation?.emergency) return false;
  if (!rotation.previous) return true;
  return emergencyCovers(rotation, rotation.previous.exchangeKeyId);
}

/**
 * The compromised key is current again (a rollback moved AWSCURRENT back onto it): the emergency
 * cannot complete as such; only a fresh `rotate --compromised` replaces the key.
 */
export function compromisedKeyCurrent(
  rotation: Pick<RotationRecord, "emergency" | "current"> | undefined,
): string | undefined {
  const current = rotation?.current?.exchangeKeyId;
  if (!current || !rotation?.emergency) return undefined;
  const { keyIds = [], followUpKeyId } = rotation.emergency;
  return keyIds.includes(current) || followUpKeyId === current ? current : undefined;
}

/**
 * The settings a rotation runs under. An emergency rotation (suspected compromise) waits for no
 * overlap, checks consumers every few seconds and has the short emergency deadline; every other
 * rotation — and an emergency no longer about its previous key — runs under the enrolled settings.
 * One function, so the wait loop, RevokePrevious and the revocation guard judge an emergency the same way.
 */
export function settingsFor(settings: SecretSettings, rotation: EmergencyView | undefined): SecretSettings {
  if (!emergencyInForce(rotation)) return settings;
  return {
    ...settings,
    minOverlapSeconds: 0,
    deadlineSeconds: settings.emergencyDeadlineSeconds ?? DEFAULT_EMERGENCY_DEADLINE_SECONDS,
    pollIntervalSeconds: Math.min(settings.pollIntervalSeconds, EMERGENCY_POLL_SECONDS),
    maxPollIntervalSeconds: Math.min(settings.maxPollIntervalSeconds, EMERGENCY_MAX_POLL_SECONDS),
  };
}

/**
 * The emergency's deadline has passed and the key to revoke (`keyId`) is one it names: that key
 * goes even if consumers lag. Any other key — the abandoned new key after a rollback — never does.
 */
export function emergencyDeadlinePassed(
  rotation: EmergencyView & Pick<RotationRecord, "deadlineAt">,
  keyId: string,
  now: Date,
): boolean {
  return Boolean(
    emergencyInForce(rotation) &&
      emergencyCovers(rotation, keyId) &&
      rotation.deadlineAt &&
      Date.parse(rotation.deadlineAt) <= now.getTime(),
  );
}

/**
 * When an emergency rotation stops waiting: `emergencyDeadlineSeconds` after it was requested, less
 * a margin for the revocation call itself, so the compromised key is dead by request + the deadline —
 * "invalidated within minutes", counted from the operator's command, not from the promotion.
 */
export function emergencyDeadlineAt(
  emergency: Pick<EmergencyRecord, "requestedAt">,
  settings: Pick<SecretSettings, "emergencyDeadlineSeconds">,
): string {
  const seconds = settings.emergencyDeadlineSeconds ?? DEFAULT_EMERGENCY_DEADLINE_SECONDS;
  const margin = Math.min(10, seconds / 4);
  return new Date(Date.parse(emergency.requestedAt) + (seconds - margin) * 1000).toISOString();
}
