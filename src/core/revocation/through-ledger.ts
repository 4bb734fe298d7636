import { randomUUID } from "node:crypto";
import type { Deps } from "../deps";
import { sanitizeErrorMessage } from "../errors";
import { askPersonToDelete } from "../manual/deletion";
import { type BreakGlass, type LedgerEntry, type LedgerKind, restoringRefusal } from "../model";
import type { ExchangeCapabilities } from "../ports";
import { ledgerEntryId } from "../tokens";
import { holdEntry, recordDisabled, recordFailure, recordRevoked } from "./attempt-records";
import { exchangeEffect, type GoneOutcome } from "./exchange-calls";
import { type CallerReads, type RevocationHold, revocationGuard } from "./guard";

/**
 * A revocation attempt's claim on its entry: longer than a Lambda can run (15 min) plus a margin,
 * so a live attempt never loses it; one that died frees the entry this long after it began.
 */
export const CLAIM_SECONDS = 20 * 60;

/** A busy entry (restoring, or claimed) is looked at again after this long at most. */
const BUSY_RETRY_SECONDS = 300;

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

export interface AttemptOptions {
  /** The scheduled sweeper: acts only on an entry still due at its re-read. */
  sweep?: boolean;
  /** The entry was just returned by a consistent read or write of the ledger: no re-read. */
  fresh?: boolean;
  /** What the caller already read in this invocation (see `CallerReads`). */
  known?: CallerReads;
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
  opts: { breakGlass?: BreakGlass; known?: CallerReads } = {},
): Promise<RevocationAttempt> {
  const now = deps.clock.now();
  let entry = await deps.ledger.openPending(
    newLedgerEntry(target, ledgerEntryId(target.exchangeAccount, target.keyId), now),
  );
  if (opts.breakGlass && !entry.breakGlass)
    entry = await deps.ledger.recordBreakGlass(entry.entryId, opts.breakGlass);
  // The entry was just read (consistently) or written: no re-read; the claim is conditional on it.
  return attemptRevocation(entry, actor, deps, { fresh: true, ...(opts.known ? { known: opts.known } : {}) });
}

/**
 * One attempt to revoke a ledger entry's key on the exchange. The entry must already exist
 * (`pending` is written BEFORE the exchange is called, so a Lambda dying mid-call loses nothing).
 * 1. Re-read the entry consistently (the sweeper found it on an index that lags; not when `fresh`:
 *    `revokeThroughLedger` hands over the entry it just opened). A disabled key
 *    whose grace has not run out is left alone (an operator may still restore it); for the
 *    sweeper (`sweep`), so is anything no longer due. Then CLAIM the entry (a conditional write on
 *    the status and attempts just read, and no live claim): a restore's intent and an attempt's
 *    claim exclude each other, so a restore never lands under a disable or a removal (I9). A
 *    `restoring` or claimed entry is held (`busy`), untouched.
 * 2. I1, at the moment of the decision: never a key AWSCURRENT/AWSPENDING points at; a `previous`
 *    key only while the gate is ready, unless an operator's break-glass is on the entry. Refused →
 *    the entry is held (no attempt counted), audited and alerted once per reason — at each stage.
 * 3. Where the exchange can disable keys, the first stage of a `previous` key's revocation disables
 *    (the key stops authenticating at once) and schedules the removal after the secret's
 *    `removeAfterSeconds`; otherwise, and at the second stage, remove. Only the exchange's own
 *    "removed"/"no such key", confirmed by a listing of the right account (it shows the secret's
 *    current key) that no longer shows the key, means gone.
 * 4. Audit the effect, then record `disabled`/`revoked` (both under the claim, which the write gives
 *    back). An exchange failure records one more attempt, the sanitized error and the next attempt
 *    time; at `maxAttempts` for the stage it is flagged for an operator and alerted. An error after
 *    the effect is no exchange failure: it propagates, and the next attempt settles the entry.
 */
export async function attemptRevocation(
  found: LedgerEntry,
  actor: string,
  deps: RevocationDeps,
  opts: AttemptOptions = {},
): Promise<RevocationAttempt> {
  const entry = opts.fresh ? found : ((await deps.ledger.get(found.entryId)) ?? found);
  // Revoked is final; awaiting-operator is a person's to finish (`keyshift keys confirm-deleted`).
  if (entry.status === "revoked" || entry.status === "awaiting-operator") return { entry };
  const now = deps.clock.now();
  if (entry.status === "restoring") return { entry, held: busyHold(entry, now) };
  if (entry.status === "disabled" && entry.nextAttemptAt && Date.parse(entry.nextAttemptAt) > now.getTime()) {
    return { entry };
  }
  // The sweeper acts only on what is due at this re-read: a restore since its listing took the
  // entry off the sweep, and only an operator's retry puts it back.
  if (opts.sweep && !isDue(entry, now)) return { entry };
  const owner = `${actor}#${randomUUID()}`;
  const claimed = await deps.ledger.claim(
    entry.entryId,
    { status: entry.status, attempts: entry.attempts, ...(opts.sweep ? { dueBy: now } : {}) },
    { owner, at: now, until: new Date(now.getTime() + CLAIM_SECONDS * 1000) },
  );
  if (claimed.claim?.owner !== owner) {
    return claimed.status === "revoked"
      ? { entry: claimed }
      : { entry: claimed, held: busyHold(claimed, now) };
  }
  try {
    return await underClaim(claimed, owner, actor, deps, opts);
  } catch (err) {
    // Not an exchange failure (a write or an audit append after the effect): the next attempt
    // settles it — the effect is idempotent and confirmed by a listing.
    await deps.ledger.releaseClaim(entry.entryId, owner).catch(() => undefined);
    throw err;
  }
}

/** Steps 2–4 of `attemptRevocation`, with the entry claimed by `owner`. */
async function underClaim(
  entry: LedgerEntry,
  owner: string,
  actor: string,
  deps: RevocationDeps,
  opts: AttemptOptions,
): Promise<RevocationAttempt> {
  const capabilities = await deps.exchange.capabilities(entry.exchangeAccount);
  const stage = stageOf(entry, capabilities);
  const verdict = await revocationGuard(entry, deps, opts.known);
  const held = verdict.hold;
  if (held) return { entry: await holdEntry(entry, held, actor, owner, deps), held };
  // I1 held at this decision: on a manual account a person is asked to delete the key.
  if (capabilities.keyManagement === "manual") {
    return { entry: await askPersonToDelete(entry, capabilities.exchange, actor, owner, deps) };
  }
  let effect: "disabled" | GoneOutcome;
  try {
    effect = await exchangeEffect(entry, stage, verdict.recorded, deps);
  } catch (err) {
    return recordFailure(entry, sanitizeErrorMessage(err), actor, owner, deps);
  }
  // Past the effect nothing is an exchange failure: errors below propagate. Each audit entry is
  // appended BEFORE the ledger records the effect, so the ledger never says disabled/revoked
  // without it; an append that fails leaves the entry as it was and the next attempt writes it.
  if (effect === "disabled") {
    return { entry: await recordDisabled(entry, verdict.settings, actor, owner, deps) };
  }
  return { entry: await recordRevoked(entry, effect, actor, owner, deps) };
}

/**
 * Disable where the exchange can (the first stage of a `previous` key: undoable within the grace),
 * remove otherwise. A key no consumer was ever given (`unpromoted`) needs no undo: removed at once.
 */
function stageOf(entry: LedgerEntry, capabilities: ExchangeCapabilities): "disable" | "remove" {
  if (entry.status === "disabled" || entry.kind === "unpromoted") return "remove";
  return capabilities.disable ? "disable" : "remove";
}

/** Due for the sweeper at `now`: scheduled, not waiting for an operator. */
function isDue(entry: LedgerEntry, now: Date): boolean {
  return !entry.needsOperator && !!entry.nextAttemptAt && Date.parse(entry.nextAttemptAt) <= now.getTime();
}

/** The entry is someone else's right now: a restore's intent, or another attempt's live claim. */
function busyHold(entry: LedgerEntry, now: Date): RevocationHold {
  if (entry.status === "restoring") {
    return { rule: "busy", reason: restoringRefusal(entry.entryId), retryInSeconds: BUSY_RETRY_SECONDS };
  }
  const until = entry.claim ? Date.parse(entry.claim.until) : Number.NaN;
  return {
    rule: "busy",
    reason:
      until > now.getTime()
        ? `another revocation attempt works on ledger entry ${entry.entryId} until ${entry.claim?.until}`
        : `ledger entry ${entry.entryId} moved on (now ${entry.status}) while this attempt began`,
    retryInSeconds: until > now.getTime() ? Math.ceil((until - now.getTime()) / 1000) : 0,
  };
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
