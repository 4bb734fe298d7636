/**
 * Staging-label semantics. Invariants: a label is on at most one version of a secret; a version
 * may carry none (it is then "deprecated" but kept); moving AWSCURRENT moves AWSPREVIOUS to the
 * version AWSCURRENT left. These are the rules the rotation steps rely on, so every move goes
 * through `attachStage` / `detachStage`.
 */
import { invalidParameter } from "./errors";
import { AWSCURRENT, AWSPREVIOUS, type SecretRecord, type VersionRecord } from "./types";

export function findVersion(secret: SecretRecord, versionId: string): VersionRecord | undefined {
  return secret.versions.find((version) => version.versionId === versionId);
}

export function holderOf(secret: SecretRecord, stage: string): VersionRecord | undefined {
  return secret.versions.find((version) => version.stages.includes(stage));
}

export function detachStage(version: VersionRecord, stage: string): void {
  version.stages = version.stages.filter((label) => label !== stage);
}

/**
 * Puts `stage` on `target`, taking it off whichever version had it. When the stage is
 * AWSCURRENT and it actually moved, the version it left gets AWSPREVIOUS.
 */
export function attachStage(secret: SecretRecord, target: VersionRecord, stage: string): void {
  const previousHolder = holderOf(secret, stage);
  if (previousHolder === target) return;
  if (previousHolder) detachStage(previousHolder, stage);
  target.stages.push(stage);
  if (stage === AWSCURRENT && previousHolder) attachStage(secret, previousHolder, AWSPREVIOUS);
}

export interface StageMove {
  stage: string;
  moveToVersionId?: string;
  removeFromVersionId?: string;
}

/**
 * UpdateSecretVersionStage. AWS documents: "If the label is attached and you either do not
 * specify [RemoveFromVersionId], or the version ID does not match, then the operation fails."
 * Moving AWSCURRENT never touches AWSPENDING: the caller removes it in a separate call.
 * Everything is checked before anything changes, so a refused call leaves the labels as they were.
 */
export function moveStage(secret: SecretRecord, move: StageMove): void {
  const { stage, moveToVersionId, removeFromVersionId } = move;
  if (moveToVersionId === undefined && removeFromVersionId === undefined) {
    throw invalidParameter("You must specify MoveToVersionId, RemoveFromVersionId, or both.");
  }
  const target = moveToVersionId === undefined ? undefined : findVersion(secret, moveToVersionId);
  if (moveToVersionId !== undefined && !target) {
    throw invalidParameter(`The version ${moveToVersionId} doesn't exist in the secret.`);
  }
  const removeFrom = removeFromVersionId === undefined ? undefined : findVersion(secret, removeFromVersionId);
  if (removeFromVersionId !== undefined && !removeFrom) {
    throw invalidParameter(`The version ${removeFromVersionId} doesn't exist in the secret.`);
  }
  const holder = holderOf(secret, stage);

  if (removeFrom && holder !== removeFrom) {
    throw invalidParameter(
      `The staging label ${stage} is not attached to version ${removeFromVersionId}, so it can't be removed from it.`,
    );
  }
  if (target && holder && holder !== target && holder !== removeFrom) {
    throw invalidParameter(
      `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
  }

  if (target) {
    attachStage(secret, target, stage);
    return;
  }
  // Only RemoveFromVersionId: detach. A secret with a value always keeps an AWSCURRENT version;
  // AWS does not document detaching it without a destination, so the emulator refuses rather
  // than let code pass locally that may fail on AWS.
  if (stage === AWSCURRENT) {
    throw invalidParameter(
      "You can't remove the staging label AWSCURRENT without moving it to another version.",
    );
  }
  if (removeFrom) detachStage(removeFrom, stage);
}
