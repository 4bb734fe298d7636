/**
 * What one revocation attempt writes once it knows how it went — under its claim (`owner`), which
 * each ledger write gives back. Effects are audited BEFORE the ledger records them (I8: a crash in
 * between leaves the entry as it was, and the next attempt writes both).
 */
import { revocationBackoffSeconds } from "../backoff";
import { DEFAULT_REMOVE_AFTER_SECONDS, type LedgerEntry, type SecretSettings } from "../model";
import type { GoneOutcome } from "./exchange-calls";
import type { RevocationHold } from "./guard";
import type { RevocationAttempt, RevocationDeps } from "./through-ledger";

/** The key is gone (confirmed by a listing): `key-revoked`, then `revoked`. */
export async function recordRevoked(
  entry: LedgerEntry,
  effect: GoneOutcome,
  actor: string,
  owner: string,
  deps: RevocationDeps,
): Promise<LedgerEntry> {
  await deps.audit.append({
    secretId: entry.secretId,
    actor,
    action: "key-revoked",
    details: {
      keyId: entry.keyId,
      versionId: entry.versionId,
      attempts: entry.attempts + 1,
      outcome: effect,
      disabledAt: entry.disabledAt ?? null,
      breakGlass: entry.breakGlass ? entry.breakGlass.actor : null,
    },
  });
  return deps.ledger.markRevoked(entry.entryId, deps.clock.now(), owner);
}

/** The key no longer authenticates: `key-disabled` (with its undo), then `disabled`, due for removal after the grace. */
export async function recordDisabled(
  entry: LedgerEntry,
  known: SecretSettings | undefined,
  actor: string,
  owner: string,
  deps: RevocationDeps,
): Promise<LedgerEntry> {
  const now = deps.clock.now();
  // The grace from the enrollment the guard judged with, when it had one (a break-glass skips it).
  const settings = known ?? (await deps.store.getSettings(entry.secretId));
  const graceSeconds = settings?.removeAfterSeconds ?? DEFAULT_REMOVE_AFTER_SECONDS;
  const removeAfter = new Date(now.getTime() + graceSeconds * 1000);
  await deps.audit.append({
    secretId: entry.secretId,
    actor,
    action: "key-disabled",
    details: {
      keyId: entry.keyId,
      versionId: entry.versionId,
      attempts: entry.attempts + 1,
      removeAfter: removeAfter.toISOString(),
      breakGlass: entry.breakGlass ? entry.breakGlass.actor : null,
      undo: `keyshift revocations restore ${entry.entryId} --reason "..." (until ${removeAfter.toISOString()})`,
    },
  });
  return deps.ledger.markDisabled(entry.entryId, { at: now, removeAfter, owner });
}

/** I1 refused the call: the entry is held (no attempt counted), audited and alerted once per reason. */
export async function holdEntry(
  entry: LedgerEntry,
  held: RevocationHold,
  actor: string,
  owner: string,
  deps: RevocationDeps,
): Promise<LedgerEntry> {
  const now = deps.clock.now();
  const next = new Date(now.getTime() + held.retryInSeconds * 1000);
  const updated = await deps.ledger.hold(entry.entryId, {
    at: now,
    reason: held.reason,
    nextAttemptAt: next,
    needsOperator: false,
    owner,
  });
  // Once per reason: the sweeper looks every few minutes, the audit trail and the pager should not.
  if (entry.heldReason !== held.reason) {
    await deps.audit.append({
      secretId: entry.secretId,
      actor,
      action: "revocation-held",
      details: {
        keyId: entry.keyId,
        rule: held.rule,
        reason: held.reason,
        nextAttemptAt: next.toISOString(),
      },
    });
    if (held.rule === "label") {
      await deps.alerts.send({
        kind: "revocation-refused",
        secretId: entry.secretId,
        subject: `keyshift: refused to revoke key ${entry.keyId}: it is current or pending`,
        details: {
          keyId: entry.keyId,
          entryId: entry.entryId,
          reason: held.reason,
          action: `\`keyshift status ${entry.secretId}\`; the ledger entry stays listed and is re-checked`,
        },
      });
    }
  }
  return updated;
}

/** The exchange call failed: one more attempt, its next time, and an operator at `maxAttempts` for the stage. */
export async function recordFailure(
  entry: LedgerEntry,
  error: string,
  actor: string,
  owner: string,
  deps: RevocationDeps,
): Promise<RevocationAttempt> {
  const now = deps.clock.now();
  const attempts = entry.attempts + 1;
  const removing = entry.status === "disabled";
  // The removal of a disabled key gets its own budget of attempts.
  const stageAttempts = removing ? attempts - (entry.attemptsAtDisable ?? 0) : attempts;
  const needsOperator = stageAttempts >= deps.revocation.maxAttempts;
  const nextAttemptAt = needsOperator
    ? undefined
    : new Date(now.getTime() + revocationBackoffSeconds(attempts, deps.revocation) * 1000);
  const failed = await deps.ledger.markFailed(entry.entryId, {
    at: now,
    error,
    nextAttemptAt,
    needsOperator,
    stage: removing ? "remove" : "revoke",
    owner,
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
      subject: `keyshift: revoking key ${entry.keyId} needs an operator (${failed.attempts} attempts)`,
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
