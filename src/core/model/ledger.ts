/** The revocation ledger's entries (I5: an entry before any exchange call, forward-only transitions). */

/**
 * The ledger's transitions (I5: forward only; `revoked`, the key gone from the exchange, is final):
 * - pending | failed → failed | disabled | revoked (a revocation attempt, under its claim);
 * - disabled → disabled (a failed removal) | revoked (removed after the grace, under a claim)
 *   | restoring (an operator's restore writes its intent, only while no attempt holds a claim);
 * - restoring → restored (the listing confirmed the key active again) | disabled (the restore
 *   withdrew before it enabled anything: the key never authenticated again) | restoring (a re-run
 *   of a restore that died takes it over and finishes it);
 * - restored → failed | disabled | revoked (after an operator's `revocations retry`, gate applying).
 * - pending | failed | restored → awaiting-operator (a manual account: keyshift cannot delete the key,
 *   a person is asked to; off the sweep) → revoked (`keyshift keys confirm-deleted`, after keyshift
 *   saw the key fail to authenticate where it can ask).
 * `disabled` exists only where the exchange can disable keys: the key no longer authenticates, and is
 * removed after the secret's grace. `restoring` is an intent, not a fact: the key may or may not
 * authenticate yet; no revocation attempt touches it and CreateNext makes no key while it stands.
 */
export type LedgerStatus =
  | "pending"
  | "failed"
  | "disabled"
  | "restoring"
  | "restored"
  | "awaiting-operator"
  | "revoked";

/** Statuses from which the next attempt disables (two-stage) or removes (one-stage) the key. */
export const FIRST_STAGE_STATUSES: readonly LedgerStatus[] = ["pending", "failed", "restored"];

/**
 * A revocation attempt's exclusive hold on its entry, taken with a conditional write before it
 * calls the exchange; every transition it makes is conditional on it. Its lease outlives the
 * longest run of a Lambda (15 min) with a margin, so a live holder never loses it.
 */
export interface LedgerClaim {
  owner: string;
  until: string;
}

/** The intent of an operator's restore (status `restoring`), owned by one run of the command. */
export interface RestoreIntent {
  owner: string;
  actor: string;
  reason: string;
  at: string;
}

/**
 * Why a key is in the ledger. `previous`: the key consumers used before a promotion; revoking it
 * needs the gate (or a break-glass). `unpromoted`: a key a rotation created and never made current
 * (abort, crashed attempt); no consumer was ever told to use it.
 */
export type LedgerKind = "previous" | "unpromoted";

/** An operator's explicit override of the gate, recorded on the entry (and audited) before any call. */
export interface BreakGlass {
  actor: string;
  reason: string;
  at: string;
}

export interface LedgerEntry {
  /** `${exchangeAccount}#${keyId}`: one entry per exchange key, whatever retries happen. */
  entryId: string;
  secretId: string;
  exchangeAccount: string;
  keyId: string;
  versionId: string;
  rotationId: string;
  /** Absent on entries written before kinds existed: treated as `previous` (the gated kind). */
  kind?: LedgerKind;
  /** The break-glass that authorises the next attempt to skip the gate; a restore retires it. */
  breakGlass?: BreakGlass;
  /** Break-glasses retired by restores (audit history only: they authorise nothing). */
  breakGlassHistory?: BreakGlass[];
  /** A revocation attempt working on the entry (see `LedgerClaim`). */
  claim?: LedgerClaim;
  /** Status `restoring`: the restore that wrote the intent. */
  restoring?: RestoreIntent;
  status: LedgerStatus;
  attempts: number;
  lastError?: string;
  nextAttemptAt?: string;
  needsOperator: boolean;
  createdAt: string;
  updatedAt: string;
  revokedAt?: string;
  /** When the key was disabled (two-stage revocation); its removal is due at `nextAttemptAt`. */
  disabledAt?: string;
  /** `attempts` when the key was disabled: the removal stage gets its own `maxAttempts`. */
  attemptsAtDisable?: number;
  /** When an operator last put the key back in service (a restore); kept, unlike `restored`. */
  lastRestoredAt?: string;
  /**
   * The first attempt since the entry opened or was last restored: every attempt's transition sets
   * it if absent, a restore removes it. After a restore it is when the key was retired anew (the
   * attempt passed the gate again); misuse detection reads it only then — a key never restored was
   * retired when its entry opened (`createdAt`).
   */
  reRetiredAt?: string;
  /** The operator's undo within the grace: the key was enabled again (audited, alerted). */
  restored?: { actor: string; reason: string; at: string };
  /** Why the last due attempt did not call the exchange (gate not ready, key is current again…). */
  heldReason?: string;
  /** Status `awaiting-operator`: since when a person has been asked to delete the key. */
  awaitingSince?: string;
}

/** What an operator is told when a command meets an entry a restore holds (status `restoring`). */
export function restoringRefusal(entryId: string): string {
  return (
    `a restore of ledger entry ${entryId} is in progress (status restoring): finish it with ` +
    `\`keyshift revocations restore ${entryId} --reason "..."\`, then run this again`
  );
}
