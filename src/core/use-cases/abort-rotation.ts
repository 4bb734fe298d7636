import { RotationInProgressError } from "../errors";
import { STAGE } from "../model";
import { exchangeLabelFor, ledgerEntryId, versionTokenFor } from "../tokens";
import { type Deps, type RotationRef, requireSettings } from "./deps";
import { promoteCurrent } from "./promote-current";
import { attemptRevocation, newLedgerEntry } from "./revocation";

export interface AbortRotationInput extends RotationRef {
  /** The error that made the workflow abort (name and sanitized message only). */
  error: string;
}

export interface AbortRotationOutput {
  /** False when promotion turned out to have happened: the workflow must wait instead. */
  aborted: boolean;
  revokedKeyIds: string[];
  pendingRevocations: string[];
}

/**
 * Failure before promotion: undo cleanly.
 *
 * Input: secret id, rotation id, the error. Output: whether it aborted and what it revoked.
 * 1. Another rotation holds the lock (ours expired and was taken over): touch nothing, fail.
 *    If AWSCURRENT already sits on our next version, promotion happened: do NOT abort (that key is
 *    live); finish the promotion's bookkeeping so the workflow waits on the new current.
 * 2. Remove AWSPENDING from our version (never from another rotation's).
 * 3. Revoke every key this rotation created (stored one and crashed-attempt orphans) through the
 *    ledger; a revocation that fails stays `failed` for the sweeper, the abort still completes.
 * 4. Record `aborted`, release the lock, audit and alert.
 */
export async function abortRotation(
  input: AbortRotationInput,
  deps: Pick<
    Deps,
    "secrets" | "store" | "lock" | "exchange" | "ledger" | "audit" | "alerts" | "clock" | "revocation"
  >,
): Promise<AbortRotationOutput> {
  const { secretId, rotationId } = input;
  const settings = await requireSettings(deps.store, secretId);
  const held = await deps.lock.get(secretId);
  if (held && held.rotationId !== rotationId) {
    throw new RotationInProgressError(
      `not aborting ${rotationId} of ${secretId}: rotation ${held.rotationId} holds the lock now; nothing was changed`,
    );
  }
  const rotation = await deps.store.getRotation(secretId, rotationId);
  const now = deps.clock.now();
  const actor = `rotation:${rotationId}`;
  const versions = await deps.secrets.listVersions(secretId);
  const currentHolder = versions.find((v) => v.stages.includes(STAGE.current));

  if (rotation?.next && currentHolder?.versionId === rotation.next.versionId) {
    await promoteCurrent(input, deps);
    return { aborted: false, revokedKeyIds: [], pendingRevocations: [] };
  }

  // Only our own AWSPENDING: the version this rotation recorded, or the one its token created
  // (a crash between PutSecretValue and the bookkeeping). Another rotation's pending is not ours.
  const pending = versions.find((v) => v.stages.includes(STAGE.next));
  const ownPending =
    pending &&
    (pending.versionId === rotation?.next?.versionId || pending.versionId === versionTokenFor(rotationId));
  if (pending && ownPending && pending.versionId !== currentHolder?.versionId) {
    await deps.secrets.moveStage(secretId, STAGE.next, { from: pending.versionId });
  }

  const label = exchangeLabelFor(rotationId);
  const listing = await deps.exchange.listKeys(settings.exchangeAccount);
  const ours = new Set(listing.keys.filter((k) => k.label === label).map((k) => k.keyId));
  if (rotation?.next) ours.add(rotation.next.exchangeKeyId);
  const current = rotation?.current?.exchangeKeyId;
  if (current) ours.delete(current);

  const revokedKeyIds: string[] = [];
  const pendingRevocations: string[] = [];
  for (const keyId of ours) {
    const entry = await deps.ledger.openPending(
      newLedgerEntry(
        {
          secretId,
          exchangeAccount: settings.exchangeAccount,
          keyId,
          versionId: rotation?.next?.exchangeKeyId === keyId ? rotation.next.versionId : "unstored",
          rotationId,
        },
        ledgerEntryId(settings.exchangeAccount, keyId),
        now,
      ),
    );
    const attempt = await attemptRevocation(entry, actor, deps);
    (attempt.entry.status === "revoked" ? revokedKeyIds : pendingRevocations).push(keyId);
  }

  const recorded = await deps.store.getVersions(secretId);
  if (recorded?.next) {
    await deps.store.putVersions({ ...recorded, next: undefined, updatedAt: now.toISOString() });
  }
  if (rotation) {
    await deps.store.putRotation({
      ...rotation,
      phase: "aborted",
      outcome: input.error,
      updatedAt: now.toISOString(),
    });
  }
  await deps.lock.release(secretId, rotationId);
  await deps.audit.append({
    secretId,
    actor,
    action: "rotation-aborted",
    details: { rotationId, error: input.error, revokedKeyIds, pendingRevocations },
  });
  await deps.alerts.send({
    kind: "rotation-aborted",
    secretId,
    subject: `keyshift: rotation of ${secretId} aborted before promotion`,
    details: { rotationId, error: input.error, revokedKeyIds, pendingRevocations },
  });
  return { aborted: true, revokedKeyIds, pendingRevocations };
}
