import { type Deps, type RotationRef, requireSettings, writerOf } from "../deps";
import { RotationStateError } from "../errors";
import { type RotationRecord, STAGE, type VersionRef } from "../model";
import type { SecretVersionInfo } from "../ports";
import { ledgerEntryId } from "../tokens";
import { holdLock } from "./lock";

export interface PromoteCurrentOutput {
  current: VersionRef;
  previous: VersionRef;
  promotedAt: string;
}

/**
 * PromoteCurrent: AWSCURRENT moves to the rotation's next version; AWSPREVIOUS follows.
 *
 * Input: secret id, rotation id. Output: the new current and previous refs, promotion time.
 * 1. The lock must still be driven by this execution (renewed).
 * 2. Already promoted (AWSCURRENT on our next version)? Finish the bookkeeping only. Otherwise the
 *    version must still carry AWSPENDING and its key must not be in the revocation ledger: an
 *    abort may have abandoned it, and promoting a revoked key would cut every consumer off.
 * 3. One atomic label move (UpdateSecretVersionStage moves AWSPREVIOUS to the old current).
 * 4. Remove AWSPENDING from the promoted version (AWS leaves it there).
 * 5. Record fingerprints (previous/current) so heartbeats answer from DynamoDB, and the phase.
 */
export async function promoteCurrent(input: RotationRef, deps: PromoteDeps): Promise<PromoteCurrentOutput> {
  const { secretId, rotationId } = input;
  const settings = await requireSettings(deps.store, secretId);
  await holdLock(deps, input, settings);
  const rotation = await deps.store.getRotation(secretId, rotationId);
  if (!rotation?.next || !rotation.current) {
    throw new RotationStateError(`rotation ${rotationId} of ${secretId} has no next version to promote`);
  }
  // After promotion the record's `current` is the new key; the previous one is kept in `previous`.
  const { next } = rotation;
  const previous = rotation.previous ?? rotation.current;
  const promotable: Promotable = { ...rotation, next };

  if (rotation.previous && rotation.phase !== "promoting") {
    // Promoted already (a retry after the record was written): nothing to move. A listing that lags
    // the label move must not send a promoted rotation to the abort.
    const recorded = await deps.store.getVersions(secretId);
    return { current: next, previous, promotedAt: recorded?.promotedAt ?? rotation.updatedAt };
  }

  const versions = await deps.secrets.listVersions(secretId);
  await moveCurrentLabel(deps, input, promotable, versions, settings.exchangeAccount);
  const pending = versions.find((v) => v.stages.includes(STAGE.next));
  if (pending) await deps.secrets.moveStage(secretId, STAGE.next, { from: pending.versionId });
  return recordPromotion(deps, input, promotable, previous);
}

type PromoteDeps = Pick<Deps, "secrets" | "store" | "lock" | "ledger" | "audit" | "clock">;
type Promotable = RotationRecord & { next: VersionRef };

/**
 * Steps 2–3: AWSCURRENT to the next version, unless it is there already. Refuses a version that
 * lost AWSPENDING or whose key is in the ledger (an abort abandoned it: promoting a revoked key
 * would cut every consumer off) — unless `promoting` was recorded: from then on only forward.
 */
async function moveCurrentLabel(
  deps: PromoteDeps,
  input: RotationRef,
  rotation: Promotable,
  versions: SecretVersionInfo[],
  account: string,
): Promise<void> {
  const { secretId } = input;
  const { next } = rotation;
  const holder = versions.find((v) => v.stages.includes(STAGE.current));
  if (!versions.some((v) => v.versionId === next.versionId) && rotation.phase !== "promoting") {
    throw new RotationStateError(`secret ${secretId} has no version ${next.versionId} to promote`);
  }
  if (holder?.versionId === next.versionId) return;
  const target = versions.find((v) => v.versionId === next.versionId);
  const entry = await deps.ledger.get(ledgerEntryId(account, next.exchangeKeyId));
  if ((!target?.stages.includes(STAGE.next) && rotation.phase !== "promoting") || entry) {
    throw new RotationStateError(
      `not promoting version ${next.versionId} of ${secretId}: ` +
        (entry
          ? `its key ${next.exchangeKeyId} is in the revocation ledger (${entry.status})`
          : `it no longer carries ${STAGE.next}`),
    );
  }
  if (rotation.phase !== "promoting") {
    // The intent, BEFORE the first label move: from here on an abort rolls forward, never back,
    // even if a lost answer or a lagging read hides that the label moved.
    await deps.store.putRotation(
      {
        ...rotation,
        phase: "promoting",
        updatedAt: deps.clock.now().toISOString(),
      },
      writerOf(input),
    );
  }
  await deps.secrets.moveStage(secretId, STAGE.current, { to: next.versionId, from: holder?.versionId });
}

/** Step 5: the fingerprints the heartbeat answers from, the audit entry, then the phase. */
async function recordPromotion(
  deps: PromoteDeps,
  input: RotationRef,
  rotation: Promotable,
  previous: VersionRef,
): Promise<PromoteCurrentOutput> {
  const { secretId, rotationId } = input;
  const { next } = rotation;
  const recorded = await deps.store.getVersions(secretId);
  const alreadyRecorded = recorded?.current?.versionId === next.versionId && recorded.promotedAt;
  const promotedAt = alreadyRecorded ? (recorded.promotedAt as string) : deps.clock.now().toISOString();
  if (!alreadyRecorded) {
    await deps.store.putVersions({ secretId, previous, current: next, promotedAt, updatedAt: promotedAt });
  }
  if (rotation.phase === "started" || rotation.phase === "next-created" || rotation.phase === "promoting") {
    // Audited BEFORE the record says `promoted`: a retry after that write skips all of this.
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
    await deps.store.putRotation(
      {
        ...rotation,
        phase: "promoted",
        previous,
        current: next,
        updatedAt: promotedAt,
      },
      writerOf(input),
    );
  }
  return { current: next, previous, promotedAt };
}
