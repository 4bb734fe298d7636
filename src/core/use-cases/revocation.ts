import { revocationBackoffSeconds } from "../backoff";
import { ExchangeKeyNotFoundError, sanitizeErrorMessage } from "../errors";
import type { LedgerEntry } from "../model";
import type { Deps } from "./deps";

export interface RevocationAttempt {
  entry: LedgerEntry;
  /** Sanitized error of this attempt, when it failed. */
  error?: string;
}

/**
 * One attempt to revoke a ledger entry's key on the exchange. The entry must already exist
 * (`pending` is written BEFORE the exchange is called, so a Lambda dying mid-call loses nothing).
 * "Key not found" counts as revoked. A failure moves the entry to `failed` with one more attempt,
 * the sanitized error and the next attempt time; at `maxAttempts` it is flagged for an operator.
 */
export async function attemptRevocation(
  entry: LedgerEntry,
  actor: string,
  deps: Pick<Deps, "exchange" | "ledger" | "audit" | "alerts" | "clock" | "revocation">,
): Promise<RevocationAttempt> {
  if (entry.status === "revoked") return { entry };
  try {
    const outcome = await deps.exchange
      .removeKey(entry.exchangeAccount, entry.keyId)
      .catch((err: unknown) => {
        // The port answers "not-found", but an adapter may throw it: either way the key is gone.
        if (err instanceof ExchangeKeyNotFoundError) return "not-found" as const;
        throw err;
      });
    const revoked = await deps.ledger.markRevoked(entry.entryId, deps.clock.now());
    await deps.audit.append({
      secretId: entry.secretId,
      actor,
      action: "key-revoked",
      details: { keyId: entry.keyId, versionId: entry.versionId, attempts: revoked.attempts, outcome },
    });
    return { entry: revoked };
  } catch (err) {
    const error = sanitizeErrorMessage(err);
    const now = deps.clock.now();
    const attempts = entry.attempts + 1;
    const needsOperator = attempts >= deps.revocation.maxAttempts;
    const nextAttemptAt = needsOperator
      ? undefined
      : new Date(now.getTime() + revocationBackoffSeconds(attempts, deps.revocation) * 1000);
    const failed = await deps.ledger.markFailed(entry.entryId, {
      at: now,
      error,
      nextAttemptAt,
      needsOperator,
    });
    await deps.audit.append({
      secretId: entry.secretId,
      actor,
      action: needsOperator ? "revocation-needs-operator" : "revocation-attempt-failed",
      details: {
        keyId: entry.keyId,
        attempts: failed.attempts,
        error,
        nextAttemptAt: nextAttemptAt?.toISOString() ?? null,
      },
    });
    if (needsOperator && failed.status !== "revoked") {
      await deps.alerts.send({
        kind: "revocation-needs-operator",
        secretId: entry.secretId,
        subject: `keyshift: revocation of key ${entry.keyId} needs an operator after ${failed.attempts} attempts`,
        details: {
          keyId: entry.keyId,
          exchangeAccount: entry.exchangeAccount,
          lastError: error,
          action: `fix the cause, then \`keyshift revocations retry ${entry.entryId}\``,
        },
      });
    }
    return { entry: failed, error };
  }
}

export function newLedgerEntry(
  fields: Pick<LedgerEntry, "secretId" | "exchangeAccount" | "keyId" | "versionId" | "rotationId">,
  entryId: string,
  now: Date,
): LedgerEntry {
  return {
    ...fields,
    entryId,
    status: "pending",
    attempts: 0,
    needsOperator: false,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    // A pending entry whose writer died is picked up by the sweeper once this passes.
    nextAttemptAt: new Date(now.getTime() + 5 * 60 * 1000).toISOString(),
  };
}
