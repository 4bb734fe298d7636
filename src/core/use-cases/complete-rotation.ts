import { ledgerEntryId } from "../tokens";
import { type Deps, type RotationRef, requireSettings } from "./deps";

export interface CompleteRotationInput extends RotationRef {
  outcome: "revoked" | "revocation-deferred";
  /** Error name of the last failed revocation attempt, when deferred. */
  error?: string;
}

export interface CompleteRotationOutput {
  secretId: string;
  rotationId: string;
  outcome: "revoked" | "revocation-deferred";
  currentVersionId: string;
  currentFingerprint: string;
  previousKeyId: string;
}

/**
 * The rotation is over: record the outcome and release the lock.
 * `revocation-deferred` means the state's retries ran out; the ledger entry stays `failed`, the
 * sweeper keeps retrying, and an alert goes out. A new rotation is refused (key limit) until then.
 */
export async function completeRotation(
  input: CompleteRotationInput,
  deps: Pick<Deps, "store" | "lock" | "ledger" | "audit" | "alerts" | "clock">,
): Promise<CompleteRotationOutput> {
  const { secretId, rotationId } = input;
  const rotation = await deps.store.getRotation(secretId, rotationId);
  // The revocation may have succeeded with its answer lost (the step crashed after the ledger
  // write): the ledger, not the path through the workflow, says whether the key is revoked.
  let outcome = input.outcome;
  if (outcome === "revocation-deferred" && rotation?.previous) {
    const settings = await requireSettings(deps.store, secretId);
    const entry = await deps.ledger.get(
      ledgerEntryId(settings.exchangeAccount, rotation.previous.exchangeKeyId),
    );
    if (entry?.status === "revoked") outcome = "revoked";
  }
  const now = deps.clock.now().toISOString();
  if (rotation && rotation.phase !== "completed") {
    await deps.store.putRotation({ ...rotation, phase: "completed", outcome, updatedAt: now });
    await deps.audit.append({
      secretId,
      actor: `rotation:${rotationId}`,
      action: "rotation-completed",
      details: {
        rotationId,
        outcome: input.outcome,
        previousKeyId: rotation.previous?.exchangeKeyId ?? null,
      },
    });
    if (outcome === "revocation-deferred") {
      await deps.alerts.send({
        kind: "revocation-failed",
        secretId,
        subject: `keyshift: revoking the previous key of ${secretId} failed; the sweeper keeps retrying`,
        details: {
          rotationId,
          keyId: rotation.previous?.exchangeKeyId ?? "unknown",
          error: input.error ?? "unknown",
          action: "watch `keyshift revocations list`; the sweeper retries with capped backoff",
        },
      });
    }
  }
  await deps.lock.release(secretId, rotationId);
  return {
    secretId,
    rotationId,
    outcome,
    currentVersionId: rotation?.current?.versionId ?? "",
    currentFingerprint: rotation?.current?.fingerprint ?? "",
    previousKeyId: rotation?.previous?.exchangeKeyId ?? "",
  };
}
