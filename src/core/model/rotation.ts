import type { KeyRequest } from "./manual";
/** A rotation's record and the per-secret lock it holds (I4: one writer per secret). */
import type { VersionRef } from "./secret";

export type RotationPhase =
  | "started"
  | "next-created"
  | "promoting"
  | "promoted"
  | "stalled"
  | "revoking"
  | "completed"
  | "aborted"
  | "force-revoked"
  | "rolled-back";

export interface RotationRecord {
  secretId: string;
  rotationId: string;
  /** `operator`: a record that only marks an operator command's hold on the lock (e.g. a restore). */
  trigger: "schedule" | "manual" | "operator";
  phase: RotationPhase;
  startedAt: string;
  updatedAt: string;
  /** Wait-for-consumers deadline (ISO); set when the wait starts. */
  deadlineAt?: string;
  previous?: VersionRef;
  current?: VersionRef;
  next?: VersionRef;
  outcome?: string;
  /**
   * A manual account (issue 17): what CreateNext asked a person to make — the replaced key's exact
   * scope and binding as the exchange described it, keyshift's egress, the label. Never a value.
   */
  manualRequest?: KeyRequest;
  /**
   * A rollback recorded BEFORE its first write (the intent), so a rollback that dies half-way is
   * finished by its re-run instead of leaving labels and records disagreeing.
   */
  rollback?: { from: VersionRef; to: VersionRef; requestedAt: string; actor: string; reason: string };
  /**
   * Emergency rotation on suspected compromise, recorded at BeginRotation: no minimum overlap, a
   * short deadline, and at that deadline the previous key is revoked even if consumers lag (the one
   * sanctioned break of the gate, audited with this reason before the call).
   */
  emergency?: EmergencyRecord;
  /**
   * Fencing token: the operation id of the operator command that last claimed this record. Every
   * write an operator command makes to the record is conditional on it still being its own
   * (`RotationStore.putRotationFenced`), so a command paused past its lease cannot write after
   * another claimed the record.
   */
  fence?: string;
  /**
   * A force-revoke recorded BEFORE its break-glass and its exchange call (the intent): while it is
   * here rollback and resume refuse, and a re-run of force-revoke finishes it.
   */
  forceRevoke?: {
    operation: string;
    actor: string;
    reason: string;
    keyId: string;
    versionId: string;
    requestedAt: string;
  };
}

/**
 * What an emergency is about. Its break-glass applies only to the keys in `keyIds` (break 6: a
 * rollback makes the abandoned NEW key the previous one; the emergency's reason is not about it).
 */
export interface EmergencyRecord {
  reason: string;
  actor: string;
  /** The deadline counts from here (the latest request that named the key now being retired). */
  requestedAt: string;
  /**
   * The compromised key(s): the key AWSCURRENT held when the emergency was requested, or, when a
   * running rotation was escalated, the previous key it retires. Absent on records written before
   * this existed: such an emergency never breaks the glass (it stalls like a normal rotation).
   */
  keyIds?: string[];
  /** Set when `rotate --compromised` escalated a rotation that was already running or stalled. */
  escalatedAt?: string;
  /**
   * An escalated rotation's current key: handed out before the report, so possibly just as exposed.
   * It cannot die in this rotation (it is current); once the rotation completes an alert asks for
   * a fresh `rotate --compromised` of it.
   */
  followUpKeyId?: string;
}

/** Phases after which a rotation holds nothing: its lock, if still there, is a leftover. */
export const FINAL_PHASES: readonly RotationPhase[] = ["completed", "aborted", "force-revoked"];

export interface LockRecord {
  secretId: string;
  rotationId: string;
  acquiredAt: string;
  /** A lock past its lease may be taken over (the holding execution died). Stalled locks never expire. */
  leaseExpiresAt: string;
  stalled: boolean;
  /**
   * The execution driving the rotation now (the rotation id itself, or the execution that resumed
   * it): a fencing token, so an execution that lost the lock to a resume cannot act any more.
   */
  execution?: string;
  /** An operator command holding the stalled rotation (rollback, force-revoke, retry) until `operatorUntil`. */
  operator?: string;
  operatorUntil?: string;
  /**
   * An operator command that recorded its intent (rollback, force-revoke) and has not finished:
   * not lease-bound. While it is here resume and every other command are refused (a conditional
   * write on this item); only a re-run of the same command may take it over and finish it.
   */
  intent?: OperatorIntent;
  /** The operation that recorded `intent`. */
  intentOperation?: string;
}

/** The operator commands that record an intent on the lock before their first effect. */
export type OperatorIntent = "rollback" | "force-revoke";
