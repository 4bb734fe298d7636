import { type Deps, type RotationRef, requireSettings, writerOf } from "../deps";
import { alertCompromisedCurrent } from "../emergency/escalation";
import { RotationStateError } from "../errors";
import type { LedgerEntry, RotationRecord } from "../model";
import { ledgerEntryId } from "../tokens";
import { holdLock } from "./lock";

export interface CompleteRotationInput extends RotationRef {
  outcome: "revoked" | "disabled" | "revocation-deferred";
  /** Error name of the last failed revocation attempt, when deferred. */
  error?: string;
}

export interface CompleteRotationOutput {
  secretId: string;
  rotationId: string;
  outcome: "revoked" | "disabled" | "revocation-deferred";
  currentVersionId: string;
  currentFingerprint: string;
  previousKeyId: string;
}

/**
 * The rotation is over: record the outcome and release the lock.
 *
 * Input: secret id, rotation id, execution, outcome. Output: the outcome the ledger confirms.
 * 1. Already completed (a retry after the record was written)? Only release the lock.
 * 2. The execution must still drive the lock.
 * 3. The ledger, not the path through the workflow, decides: `revoked` needs a revoked entry for
 *    the previous key; `revocation-deferred` needs an entry the sweeper will work on. With no entry
 *    at all nothing would ever revoke the key: refuse (`RotationStateError`, the workflow parks)
 *    rather than release the lock and lose track of it.
 * 4. Audit, alert when deferred, THEN record `completed` (at least once: a retry after a crash
 *    between them audits again rather than never), release the lock.
 */
export async function completeRotation(
  input: CompleteRotationInput,
  deps: Pick<Deps, "store" | "lock" | "ledger" | "audit" | "alerts" | "clock">,
): Promise<CompleteRotationOutput> {
  const { secretId, rotationId } = input;
  const rotation = await deps.store.getRotation(secretId, rotationId);
  if (!rotation?.previous) {
    throw new RotationStateError(`rotation ${rotationId} of ${secretId} has no previous key to complete`);
  }
  if (rotation.phase === "completed") {
    await deps.lock.release(secretId, rotationId);
    return outputOf(rotation, (rotation.outcome as CompleteRotationOutput["outcome"]) ?? input.outcome);
  }
  const settings = await requireSettings(deps.store, secretId);
  await holdLock(deps, input, settings);
  const entry = await deps.ledger.get(
    ledgerEntryId(settings.exchangeAccount, rotation.previous.exchangeKeyId),
  );
  const outcome = confirmedOutcome(input, rotation, entry);
  // Audit and alert BEFORE the record says `completed` (break 13): a retry that finds `completed`
  // only releases the lock, so a crash between the record and the audit would lose both for good.
  // This way a crash anywhere before the record is retried whole: at least once, like the heartbeat.
  await deps.audit.append({
    secretId,
    actor: `rotation:${rotationId}`,
    action: "rotation-completed",
    details: {
      rotationId,
      outcome,
      previousKeyId: rotation.previous.exchangeKeyId,
      ledger: entry?.status ?? null,
    },
  });
  if (outcome === "revocation-deferred") {
    await deps.alerts.send({
      kind: "revocation-failed",
      secretId,
      subject: `keyshift: revoking the previous key of ${secretId} failed; the sweeper retries`,
      details: {
        rotationId,
        keyId: rotation.previous.exchangeKeyId,
        error: input.error ?? "unknown",
        action: "watch `keyshift revocations list`; the sweeper retries with capped backoff",
      },
    });
  }
  // An emergency that leaves a compromised (or possibly exposed) key current asks for a fresh one.
  await alertCompromisedCurrent(deps, rotation, `rotation:${rotationId}`, "completed");
  const now = deps.clock.now().toISOString();
  await deps.store.putRotation({ ...rotation, phase: "completed", outcome, updatedAt: now }, writerOf(input));
  await deps.lock.release(secretId, rotationId);
  return outputOf(rotation, outcome);
}

function confirmedOutcome(
  input: CompleteRotationInput,
  rotation: RotationRecord,
  entry: LedgerEntry | undefined,
): CompleteRotationOutput["outcome"] {
  if (entry?.status === "revoked") return "revoked";
  // Two-stage revocation: the key no longer authenticates; the sweeper removes it after the grace.
  if (entry?.status === "disabled") return "disabled";
  const keyId = rotation.previous?.exchangeKeyId;
  if (!entry) {
    throw new RotationStateError(
      `not completing rotation ${input.rotationId} of ${input.secretId}: previous key ${keyId} has no ledger entry, ` +
        "so nothing would ever revoke it; the rotation is parked for `keyshift resume`",
    );
  }
  if (input.outcome === "revoked") {
    throw new RotationStateError(
      `not completing rotation ${input.rotationId} of ${input.secretId}: the ledger says key ${keyId} is ${entry.status}, not revoked`,
    );
  }
  return "revocation-deferred";
}

function outputOf(
  rotation: RotationRecord,
  outcome: CompleteRotationOutput["outcome"],
): CompleteRotationOutput {
  return {
    secretId: rotation.secretId,
    rotationId: rotation.rotationId,
    outcome,
    currentVersionId: rotation.current?.versionId ?? "",
    currentFingerprint: rotation.current?.fingerprint ?? "",
    previousKeyId: rotation.previous?.exchangeKeyId ?? "",
  };
}
