import {
  ConsumersNotReadyError,
  RevocationFailedError,
  RevocationRefusedError,
  RotationStateError,
} from "../errors";
import { holdLock } from "../lock";
import { type Deps, type RotationRef, requireSettings } from "./deps";
import { readinessOf } from "./gate";
import { revokeThroughLedger } from "./revocation";

export interface RevokePreviousOutput {
  entryId: string;
  keyId: string;
  /** `disabled`: two-stage revocation's first stage (the key no longer authenticates; removed after the grace). */
  status: "revoked" | "disabled";
  attempts: number;
}

/**
 * RevokePrevious: revoke the previous key on the exchange, through the ledger.
 *
 * Input: secret id, rotation id, execution. Output: the ledger entry id and its `revoked` status.
 * 1. The lock must be driven by this execution (renewed); the gate is checked again here (the rule
 *    lives in the core, not only in the ASL Choice): not ready → `ConsumersNotReadyError`, back to
 *    waiting, before anything is written.
 * 2. Write the ledger entry `pending` BEFORE calling the exchange; the revocation guard checks the
 *    labels and the gate once more right before the call (I1).
 * 3. `revoked` once the exchange confirms the removal, `disabled` where revocation is two-stage (the
 *    sweeper removes the key after the grace); `failed` + `RevocationFailedError` otherwise (the state
 *    retries with backoff and jitter, then hands the entry over to the sweeper).
 */
export async function revokePrevious(
  input: RotationRef,
  deps: Pick<
    Deps,
    | "secrets"
    | "store"
    | "lock"
    | "consumers"
    | "ledger"
    | "exchange"
    | "audit"
    | "alerts"
    | "clock"
    | "revocation"
  >,
): Promise<RevokePreviousOutput> {
  const { secretId, rotationId } = input;
  const settings = await requireSettings(deps.store, secretId);
  await holdLock(deps, input, settings);
  const rotation = await deps.store.getRotation(secretId, rotationId);
  const versions = await deps.store.getVersions(secretId);
  if (!rotation?.previous || !versions?.current || !versions.promotedAt) {
    throw new RotationStateError(
      `rotation ${rotationId} of ${secretId} has no promoted current/previous pair`,
    );
  }
  const previous = rotation.previous;
  if (previous.exchangeKeyId === versions.current.exchangeKeyId) {
    throw new RevocationRefusedError(
      `rotation ${rotationId} of ${secretId}: its previous key ${previous.exchangeKeyId} is the current key again; nothing is revoked`,
    );
  }
  const now = deps.clock.now();
  const gate = await readinessOf(deps, {
    secretId,
    currentFingerprint: versions.current.fingerprint,
    promotedAt: versions.promotedAt,
    settings,
    now,
  });
  if (!gate.ready) {
    throw new ConsumersNotReadyError(
      `not revoking ${previous.exchangeKeyId}: ${gate.laggingCount} consumer(s) lagging` +
        (gate.overlapRemainingSeconds > 0 ? `, ${gate.overlapRemainingSeconds}s of overlap left` : ""),
    );
  }
  if (rotation.phase !== "revoking") {
    await deps.store.putRotation({ ...rotation, phase: "revoking", updatedAt: now.toISOString() });
  }
  const attempt = await revokeThroughLedger(
    {
      secretId,
      exchangeAccount: settings.exchangeAccount,
      keyId: previous.exchangeKeyId,
      versionId: previous.versionId,
      rotationId,
      kind: "previous",
    },
    `rotation:${rotationId}`,
    deps,
  );
  if (attempt.held) {
    if (attempt.held.rule === "gate") throw new ConsumersNotReadyError(attempt.held.reason);
    throw new RevocationRefusedError(attempt.held.reason);
  }
  const status = attempt.entry.status;
  if (status !== "revoked" && status !== "disabled") {
    throw new RevocationFailedError(
      `revoking ${previous.exchangeKeyId} on ${settings.exchangeAccount} failed (attempt ${attempt.entry.attempts}): ${attempt.error}`,
    );
  }
  return {
    entryId: attempt.entry.entryId,
    keyId: previous.exchangeKeyId,
    status,
    attempts: attempt.entry.attempts,
  };
}
