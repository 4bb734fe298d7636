import { RotationInProgressError, RotationStateError } from "../errors";
import { STAGE, type VersionRef } from "../model";
import type { Deps, RotationRef } from "./deps";

export interface PromoteCurrentOutput {
  current: VersionRef;
  previous: VersionRef;
  promotedAt: string;
}

/**
 * PromoteCurrent: AWSCURRENT moves to the rotation's next version; AWSPREVIOUS follows.
 *
 * Input: secret id, rotation id. Output: the new current and previous refs, promotion time.
 * 1. The lock must still be held by this rotation.
 * 2. Already promoted (AWSCURRENT on our next version)? Finish the bookkeeping only.
 * 3. One atomic label move (UpdateSecretVersionStage moves AWSPREVIOUS to the old current).
 * 4. Remove AWSPENDING from the promoted version (AWS leaves it there).
 * 5. Record fingerprints (previous/current) so heartbeats answer from DynamoDB, and the phase.
 */
export async function promoteCurrent(
  input: RotationRef,
  deps: Pick<Deps, "secrets" | "store" | "lock" | "audit" | "clock">,
): Promise<PromoteCurrentOutput> {
  const { secretId, rotationId } = input;
  await requireLockHeld(deps, input);
  const rotation = await deps.store.getRotation(secretId, rotationId);
  if (!rotation?.next || !rotation.current) {
    throw new RotationStateError(`rotation ${rotationId} of ${secretId} has no next version to promote`);
  }
  // After promotion the record's `current` is the new key; the previous one is kept in `previous`.
  const { next } = rotation;
  const previous = rotation.previous ?? rotation.current;

  const versions = await deps.secrets.listVersions(secretId);
  const holder = versions.find((v) => v.stages.includes(STAGE.current));
  if (!versions.some((v) => v.versionId === next.versionId)) {
    throw new RotationStateError(`secret ${secretId} has no version ${next.versionId} to promote`);
  }
  if (holder?.versionId !== next.versionId) {
    await deps.secrets.moveStage(secretId, STAGE.current, { to: next.versionId, from: holder?.versionId });
  }
  const pending = versions.find((v) => v.stages.includes(STAGE.next));
  if (pending) await deps.secrets.moveStage(secretId, STAGE.next, { from: pending.versionId });

  const recorded = await deps.store.getVersions(secretId);
  const alreadyRecorded = recorded?.current?.versionId === next.versionId && recorded.promotedAt;
  const promotedAt = alreadyRecorded ? (recorded.promotedAt as string) : deps.clock.now().toISOString();
  if (!alreadyRecorded) {
    await deps.store.putVersions({ secretId, previous, current: next, promotedAt, updatedAt: promotedAt });
  }
  if (rotation.phase === "started" || rotation.phase === "next-created") {
    await deps.store.putRotation({
      ...rotation,
      phase: "promoted",
      previous,
      current: next,
      updatedAt: promotedAt,
    });
    await deps.audit.append({
      secretId,
      actor: `rotation:${rotationId}`,
      action: "current-promoted",
      details: {
        rotationId,
        currentVersionId: next.versionId,
        currentFingerprint: next.fingerprint,
        previousVersionId: previous.versionId,
        previousFingerprint: previous.fingerprint,
      },
    });
  }
  return { current: next, previous, promotedAt };
}

export async function requireLockHeld(deps: Pick<Deps, "lock">, input: RotationRef): Promise<void> {
  const held = await deps.lock.get(input.secretId);
  if (held?.rotationId !== input.rotationId) {
    throw new RotationInProgressError(
      held
        ? `secret ${input.secretId} is locked by rotation ${held.rotationId}, not ${input.rotationId}`
        : `rotation ${input.rotationId} no longer holds the lock of ${input.secretId}`,
    );
  }
}
