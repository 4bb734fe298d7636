/** The revocation ledger table (I5). */
import type { BreakGlass, LedgerEntry, LedgerStatus } from "../model";

/**
 * The revocation ledger (transitions: `LedgerStatus`). Every transition a revocation attempt makes
 * is conditional on its claim (`owner`); without an `owner` it is made only while no claim is live.
 * A refused transition returns the entry as it stands.
 */
/** What `markFailed` records of an attempt that did not revoke. */
export interface FailedAttempt {
  at: Date;
  error: string;
  nextAttemptAt: Date | undefined;
  needsOperator: boolean;
  stage?: "revoke" | "remove";
  owner?: string;
}

export interface RevocationLedger {
  get(entryId: string): Promise<LedgerEntry | undefined>;
  /** Creates the `pending` entry, or returns the existing one (never resets it). */
  openPending(entry: LedgerEntry): Promise<LedgerEntry>;
  /**
   * A revocation attempt's claim, before it calls the exchange: only while the entry still has the
   * `status` and `attempts` the attempt read, no other claim is live (`until` past), and — with
   * `dueBy` — it is due then and needs no operator. Claimed iff the result's `claim.owner` is `owner`.
   */
  claim(
    entryId: string,
    expect: { status: LedgerStatus; attempts: number; dueBy?: Date },
    claim: { owner: string; at: Date; until: Date },
  ): Promise<LedgerEntry>;
  /** Gives a claim back without a transition; nothing happens unless `owner` holds it. */
  releaseClaim(entryId: string, owner: string): Promise<LedgerEntry>;
  /** pending|failed|disabled|restored|awaiting-operator -> revoked (the key is gone). Idempotent; never leaves `revoked`. */
  markRevoked(entryId: string, at: Date, owner?: string): Promise<LedgerEntry>;
  /**
   * pending|failed|restored -> awaiting-operator: only a person can delete this key (a manual
   * account); off the sweep, one more attempt. Idempotent once awaiting; refused (returns current)
   * from any other status.
   */
  markAwaitingOperator(entryId: string, update: { at: Date; owner?: string }): Promise<LedgerEntry>;
  /**
   * pending|failed|restored -> disabled (the key no longer authenticates), one more attempt, due
   * for removal at `removeAfter`. Refused (returns current) from any other status.
   */
  markDisabled(
    entryId: string,
    update: { at: Date; removeAfter: Date; owner?: string },
  ): Promise<LedgerEntry>;
  /**
   * The restore's intent, before it enables anything: disabled -> restoring, only while no claim
   * is live; or restoring -> restoring under a new owner (a re-run takes over a restore that died).
   * Off the sweep. Written iff the result's `restoring.owner` is `intent.owner`.
   */
  beginRestore(
    entryId: string,
    intent: { owner: string; actor: string; reason: string; at: Date },
  ): Promise<LedgerEntry>;
  /**
   * restoring (owned by `owner`) -> restored, once the listing shows the key active: off the sweep
   * until requeued, needs an operator. The break-glass moves to `breakGlassHistory` (I1: after a
   * restore the gate applies again).
   */
  markRestored(entryId: string, update: { owner: string; at: Date }): Promise<LedgerEntry>;
  /** restoring (owned by `owner`) -> disabled: the restore withdrew before enabling; back on the sweep at its removal time. */
  withdrawRestore(entryId: string, update: { owner: string; at: Date }): Promise<LedgerEntry>;
  /**
   * One more failed attempt. Stage `revoke` (the first call): pending|failed|restored -> failed.
   * Stage `remove` (the key is already disabled): the entry stays `disabled`. Refused (returns
   * current) from any other status, e.g. once revoked or after another attempt moved it on.
   */
  markFailed(entryId: string, update: FailedAttempt): Promise<LedgerEntry>;
  /**
   * A due entry whose attempt was held back without calling the exchange (gate not ready, key
   * current again): next look at `nextAttemptAt`, no attempt counted; `needsOperator` when a person
   * must decide. Refused (returns current) once revoked or while restoring.
   */
  hold(
    entryId: string,
    update: {
      at: Date;
      reason: string;
      nextAttemptAt: Date | undefined;
      needsOperator: boolean;
      owner?: string;
    },
  ): Promise<LedgerEntry>;
  /** Operator retry: clears `needsOperator` and makes the entry due now; refused once revoked or while restoring. */
  requeue(entryId: string, at: Date): Promise<LedgerEntry>;
  /** Records an operator's break-glass on the entry before the exchange is called (not once revoked, nor while restoring). */
  recordBreakGlass(entryId: string, breakGlass: BreakGlass): Promise<LedgerEntry>;
  /** Entries still to work on whose next attempt is due (paginates the sparse index; may lag). */
  listDue(now: Date, limit: number): Promise<LedgerEntry[]>;
  listAll(): Promise<LedgerEntry[]>;
  /** Every entry of one secret, final ones included (the by-secret index; may lag a moment). */
  listBySecret(secretId: string): Promise<LedgerEntry[]>;
  /** Every entry in one status, oldest first (the by-status index; may lag a moment). */
  listByStatus(status: LedgerStatus): Promise<LedgerEntry[]>;
}
