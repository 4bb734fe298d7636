import { ConsumersNotReadyError, RevocationFailedError, RotationStateError } from "../errors";
import { ledgerEntryId } from "../tokens";
import { type Deps, type RotationRef, requireSettings } from "./deps";
import { readinessOf } from "./gate";
import { requireLockHeld } from "./promote-current";
import { attemptRevocation, newLedgerEntry } from "./revocation";

export interface RevokePreviousOutput {
  entryId: string;
  keyId: string;
  status: "revoked";
  attempts: number;
}

/**
 * RevokePrevious: revoke the previous key on the exchange, through the ledger.
 *
 * Input: secret id, rotation id. Output: the ledger entry id and its `revoked` status.
 * 1. The lock must be held by this rotation; the gate is checked again here (the rule lives in the
 *    core, not only in the ASL Choice): not ready → `ConsumersNotReadyError`, back to waiting.
 * 2. Write the ledger entry `pending` BEFORE calling the exchange.
 * 3. Remove the key; `revoked` on success or "not found", `failed` + `RevocationFailedError` otherwise
 *    (the state retries with backoff and jitter, then hands over to the sweeper).
 */
export async function revokePrevious(
  input: RotationRef,
  deps: Pick<
    Deps,
    "store" | "lock" | "consumers" | "ledger" | "exchange" | "audit" | "alerts" | "clock" | "revocation"
  >,
): Promise<RevokePreviousOutput> {
  const { secretId, rotationId } = input;
  const settings = await requireSettings(deps.store, secretId);
  await requireLockHeld(deps, input);
  const rotation = await deps.store.getRotation(secretId, rotationId);
  const versions = await deps.store.getVersions(secretId);
  if (!rotation?.previous || !versions?.current || !versions.promotedAt) {
    throw new RotationStateError(
      `rotation ${rotationId} of ${secretId} has no promoted current/previous pair`,
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
      `not revoking ${rotation.previous.exchangeKeyId}: ${gate.laggingCount} consumer(s) lagging` +
        (gate.overlapRemainingSeconds > 0 ? `, ${gate.overlapRemainingSeconds}s of overlap left` : ""),
    );
  }
  if (rotation.phase !== "revoking") {
    await deps.store.putRotation({ ...rotation, phase: "revoking", updatedAt: now.toISOString() });
  }
  const previous = rotation.previous;
  const entryId = ledgerEntryId(settings.exchangeAccount, previous.exchangeKeyId);
  const entry = await deps.ledger.openPending(
    newLedgerEntry(
      {
        secretId,
        exchangeAccount: settings.exchangeAccount,
        keyId: previous.exchangeKeyId,
        versionId: previous.versionId,
        rotationId,
      },
      entryId,
      now,
    ),
  );
  const attempt = await attemptRevocation(entry, `rotation:${rotationId}`, deps);
  if (attempt.entry.status !== "revoked") {
    throw new RevocationFailedError(
      `revoking ${previous.exchangeKeyId} on ${settings.exchangeAccount} failed (attempt ${attempt.entry.attempts}): ${attempt.error}`,
    );
  }
  return { entryId, keyId: previous.exchangeKeyId, status: "revoked", attempts: attempt.entry.attempts };
}
