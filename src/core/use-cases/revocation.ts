import { revocationBackoffSeconds } from "../backoff";
import { ExchangeKeyNotFoundError, ExchangeRetryableError, sanitizeErrorMessage } from "../errors";
import { type BreakGlass, DEFAULT_REMOVE_AFTER_SECONDS, type LedgerEntry, type LedgerKind } from "../model";
import { ledgerEntryId } from "../tokens";
import type { Deps } from "./deps";
import { type RevocationHold, revocationGuard } from "./revocation-guard";

export type RevocationDeps = Pick<
  Deps,
  "secrets" | "store" | "consumers" | "exchange" | "ledger" | "audit" | "alerts" | "clock" | "revocation"
>;

/** What a step that holds the lock and may revoke needs (abort, CreateNext's orphans, operator commands). */
export type LockedRevocationDeps = RevocationDeps & Pick<Deps, "lock">;

export interface RevocationAttempt {
  entry: LedgerEntry;
  /** Sanitized error of this attempt, when it failed. */
  error?: string;
  /** Why the exchange was not called at all (I1 refused it); the entry stays due. */
  held?: RevocationHold;
}

export interface RevocationTarget {
  secretId: string;
  exchangeAccount: string;
  keyId: string;
  versionId: string;
  rotationId: string;
  kind: LedgerKind;
}

/**
 * The only way keyshift revokes a key: open (or find) the ledger entry first (I5), record a
 * break-glass on it when there is one, then attempt. Returns the entry as the attempt left it.
 */
export async function revokeThroughLedger(
  target: RevocationTarget,
  actor: string,
  deps: RevocationDeps,
  opts: { breakGlass?: BreakGlass } = {},
): Promise<RevocationAttempt> {
  const now = deps.clock.now();
  let entry = await deps.ledger.openPending(
    newLedgerEntry(target, ledgerEntryId(target.exchangeAccount, target.keyId), now),
  );
  if (opts.breakGlass && !entry.breakGlass)
    entry = await deps.ledger.recordBreakGlass(entry.entryId, opts.breakGlass);
  return attemptRevocation(entry, actor, deps);
}

/**
 * One attempt to revoke a ledger entry's key on the exchange. The entry must already exist
 * (`pending` is written BEFORE the exchange is called, so a Lambda dying mid-call loses nothing).
 * 1. Re-read the entry consistently (the sweeper found it on an index that lags). A disabled key
 *    whose grace has not run out is left alone (an operator may still restore it).
 * 2. I1, at the moment of the decision: never a key AWSCURRENT/AWSPENDING points at; a `previous`
 *    key only while the gate is ready, unless an operator's break-glass is on the entry. Refused →
 *    the entry is held (no attempt counted), audited and alerted once per reason — at each stage.
 * 3. Where the exchange can disable keys, the first stage of a `previous` key's revocation disables (the key stops authenticating at
 *    once) and schedules the removal after the secret's `removeAfterSeconds`; otherwise, and at the
 *    second stage, remove. Only the exchange's own "removed"/"no such key", confirmed by a listing
 *    that no longer shows the key, means gone — which also settles an answer lost to a timeout.
 * 4. `disabled`/`revoked`, or a failure with one more attempt, the sanitized error and the next
 *    attempt time; at `maxAttempts` for the stage it is flagged for an operator and alerted.
 */
export async function attemptRevocation(
  found: LedgerEntry,
  actor: string,
  deps: RevocationDeps,
): Promise<RevocationAttempt> {
  const entry = (await deps.ledger.get(found.entryId)) ?? found;
  if (entry.status === "revoked") return { entry };
  const now = deps.clock.now();
  if (entry.status === "disabled" && entry.nextAttemptAt && Date.parse(entry.nextAttemptAt) > now.getTime()) {
    return { entry };
  }
  // A key no consumer was ever given (`unpromoted`) needs no undo: it is removed at once.
  const stage: "disable" | "remove" =
    entry.status !== "disabled" &&
    entry.kind !== "unpromoted" &&
    (await deps.exchange.capabilities(entry.exchangeAccount)).disable
      ? "disable"
      : "remove";
  const held = await revocationGuard(entry, deps);
  if (held) return { entry: await holdEntry(entry, held, actor, deps), held };
  try {
    if (stage === "disable" && (await disableConfirmed(entry, deps)) === "disabled") {
      return { entry: await recordDisabled(entry, actor, deps) };
    }
    const outcome = stage === "disable" ? "gone-before-disable" : await removeConfirmed(entry, deps);
    const revoked = await deps.ledger.markRevoked(entry.entryId, deps.clock.now());
    await deps.audit.append({
      secretId: entry.secretId,
      actor,
      action: "key-revoked",
      details: {
        keyId: entry.keyId,
        versionId: entry.versionId,
        attempts: revoked.attempts,
        outcome,
        disabledAt: entry.disabledAt ?? null,
        breakGlass: entry.breakGlass ? entry.breakGlass.actor : null,
      },
    });
    return { entry: revoked };
  } catch (err) {
    return recordFailure(entry, sanitizeErrorMessage(err), actor, deps);
  }
}

/**
 * Disable, then list: disabled only if the listing shows the key disabled; a listing without the
 * key means it is already gone (settled as revoked by the caller). A lost answer is settled the same way.
 */
async function disableConfirmed(
  entry: LedgerEntry,
  deps: Pick<Deps, "exchange">,
): Promise<"disabled" | "gone"> {
  let disableError: unknown;
  try {
    await deps.exchange.disableKey(entry.exchangeAccount, entry.keyId);
  } catch (err) {
    if (!(err instanceof ExchangeRetryableError) && !(err instanceof ExchangeKeyNotFoundError)) throw err;
    disableError = err;
  }
  const listing = await deps.exchange.listKeys(entry.exchangeAccount);
  const still = listing.keys.find((k) => k.keyId === entry.keyId);
  if (!still) return "gone";
  if (still.status === "disabled") return "disabled";
  if (disableError) throw disableError;
  throw new ExchangeRetryableError(
    `exchange accepted disabling key ${entry.keyId} on ${entry.exchangeAccount}, but still lists it active`,
  );
}

async function recordDisabled(entry: LedgerEntry, actor: string, deps: RevocationDeps): Promise<LedgerEntry> {
  const now = deps.clock.now();
  const settings = await deps.store.getSettings(entry.secretId);
  const graceSeconds = settings?.removeAfterSeconds ?? DEFAULT_REMOVE_AFTER_SECONDS;
  const removeAfter = new Date(now.getTime() + graceSeconds * 1000);
  const disabled = await deps.ledger.markDisabled(entry.entryId, { at: now, removeAfter });
  await deps.audit.append({
    secretId: entry.secretId,
    actor,
    action: "key-disabled",
    details: {
      keyId: entry.keyId,
      versionId: entry.versionId,
      attempts: disabled.attempts,
      removeAfter: removeAfter.toISOString(),
      breakGlass: entry.breakGlass ? entry.breakGlass.actor : null,
      undo: `keyshift revocations restore ${entry.entryId} --reason "..." (until ${removeAfter.toISOString()})`,
    },
  });
  return disabled;
}

/**
 * Remove, then list: the key is gone only if the listing no longer shows it. A timeout or 5xx on
 * the removal is settled the same way (the exchange may have acted before the answer was lost).
 */
async function removeConfirmed(
  entry: LedgerEntry,
  deps: Pick<Deps, "exchange">,
): Promise<"removed" | "not-found" | "confirmed-after-error"> {
  let outcome: "removed" | "not-found" | "confirmed-after-error";
  let removalError: unknown;
  try {
    outcome = await deps.exchange.removeKey(entry.exchangeAccount, entry.keyId).catch((err: unknown) => {
      if (err instanceof ExchangeKeyNotFoundError) return "not-found" as const;
      throw err;
    });
  } catch (err) {
    // A permanent refusal (auth, wrong account, bad path) will not be settled by a listing.
    if (!(err instanceof ExchangeRetryableError)) throw err;
    removalError = err;
    outcome = "confirmed-after-error";
  }
  const listing = await deps.exchange.listKeys(entry.exchangeAccount);
  const still = listing.keys.find((k) => k.keyId === entry.keyId);
  if (still) {
    if (removalError) throw removalError;
    throw new ExchangeRetryableError(
      `exchange answered ${outcome} for key ${entry.keyId} on ${entry.exchangeAccount}, but still lists it (${still.status})`,
    );
  }
  return outcome;
}

async function holdEntry(
  entry: LedgerEntry,
  held: RevocationHold,
  actor: string,
  deps: RevocationDeps,
): Promise<LedgerEntry> {
  const now = deps.clock.now();
  const next = new Date(now.getTime() + held.retryInSeconds * 1000);
  const updated = await deps.ledger.hold(entry.entryId, {
    at: now,
    reason: held.reason,
    nextAttemptAt: next,
    needsOperator: false,
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

async function recordFailure(
  entry: LedgerEntry,
  error: string,
  actor: string,
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

export function newLedgerEntry(
  fields: Pick<LedgerEntry, "secretId" | "exchangeAccount" | "keyId" | "versionId" | "rotationId" | "kind">,
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
