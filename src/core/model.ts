/** Domain vocabulary shared by the use cases. Nothing here ever holds a secret value. */

export const STAGE = { current: "AWSCURRENT", previous: "AWSPREVIOUS", next: "AWSPENDING" } as const;

/** Per-secret enrollment settings (rotations table, sk `SETTINGS`). */
export interface SecretSettings {
  secretId: string;
  exchangeAccount: string;
  /** Longest cache TTL of any consumer that cannot heartbeat: the overlap is never shorter. */
  minOverlapSeconds: number;
  /** After this long waiting for consumers the rotation stalls (alert, no revoke, lock kept). */
  deadlineSeconds: number;
  /** First wait between consumer checks; the interval grows towards `maxPollIntervalSeconds`. */
  pollIntervalSeconds: number;
  maxPollIntervalSeconds: number;
  /**
   * Instance rows written before `expectedBy` existed are live for this many of their consumer's
   * `heartbeatIntervalSeconds` after their last heartbeat (the rule liveness had before).
   */
  livenessMultiplier: number;
  /**
   * Two-stage revocation (exchanges that can disable keys): how long a disabled key stays on the
   * exchange, restorable by an operator, before it is removed. Absent: `DEFAULT_REMOVE_AFTER_SECONDS`.
   */
  removeAfterSeconds?: number;
  /**
   * Emergency rotation (suspected compromise): how long consumers get to switch before the previous
   * key is disabled or removed even if some lag. Absent: `DEFAULT_EMERGENCY_DEADLINE_SECONDS`.
   */
  emergencyDeadlineSeconds?: number;
  /**
   * The EventBridge schedule expression from `rotation.config.yml` (`rate(30 days)`, `cron(...)`):
   * the hygiene audit judges overdue rotations by it, and the heartbeat brings the fleet back just
   * after a scheduled start (unless `scheduleEnabled` is false).
   */
  schedule?: string;
  /** False when the schedule exists but is disabled. */
  scheduleEnabled?: boolean;
  /** `nextHeartbeatSeconds` while no rotation of the secret runs (default 300; see consumers/heartbeat-policy.ts). */
  idleHeartbeatSeconds?: number;
  /** `nextHeartbeatSeconds` while a rotation holds the lock (default 5). */
  activeHeartbeatSeconds?: number;
  /** An instance is live until `expectedBy` + this (default 30). */
  livenessGraceSeconds?: number;
  /** When the secret was first enrolled; a re-enrollment keeps it. */
  enrolledAt: string;
}

/** "Fast means the credential is invalidated within minutes": two of them at most, by default. */
export const DEFAULT_EMERGENCY_DEADLINE_SECONDS = 120;

/** A disabled key waits a day for an operator's `revocations restore` before it is removed for good. */
export const DEFAULT_REMOVE_AFTER_SECONDS = 86_400;

/** One labelled version as the workflow last recorded it. */
export interface VersionRef {
  versionId: string;
  fingerprint: string;
  exchangeKeyId: string;
  /** The key's scope as the secret declares it (recorded at enrollment and CreateNext; the hygiene audit compares). */
  permissions?: string[];
}

/** Fingerprints of the previous / current / next versions (rotations table, sk `VERSIONS`). */
export interface VersionFingerprints {
  secretId: string;
  current?: VersionRef;
  previous?: VersionRef;
  next?: VersionRef;
  /** When `current` last changed: the overlap window counts from here. */
  promotedAt?: string;
  updatedAt: string;
}

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

export interface ConsumerRegistration {
  secretId: string;
  consumerId: string;
  /** IAM role ARN allowed to report for this consumer (`arn:aws:iam::ACCOUNT:role/NAME`). */
  principalArn: string;
  cacheTtlSeconds: number;
  heartbeatIntervalSeconds: number;
  required: boolean;
  registeredAt: string;
}

export interface ConsumerInstance {
  secretId: string;
  consumerId: string;
  instanceId: string;
  fingerprint: string;
  firstSeenAt: string;
  lastSeenAt: string;
  /**
   * When the server told the instance to be back by (`lastSeenAt` + `nextHeartbeatSeconds`):
   * liveness follows this promise. Absent on rows written before it existed.
   */
  expectedBy?: string;
  /**
   * The last entry of the instance's own audit stream (its fingerprint changes): the row anchors
   * that stream, so a stream removed whole does not verify (see `instanceAuditStream`).
   */
  auditSeq?: number;
  auditHash?: string;
}

/** One heartbeat's refresh of an instance whose fingerprint did not change. */
export interface InstanceTouch {
  secretId: string;
  consumerId: string;
  instanceId: string;
  fingerprint: string;
  lastSeenAt: string;
  expectedBy: string;
}

/** What the heartbeat needs to know of a secret, read together (rotations table). */
export interface SecretState {
  settings?: SecretSettings;
  versions?: VersionFingerprints;
  lock?: LockRecord;
}

/**
 * The ledger's transitions (I5: forward only; `revoked`, the key gone from the exchange, is final):
 * - pending | failed → failed | disabled | revoked (a revocation attempt, under its claim);
 * - disabled → disabled (a failed removal) | revoked (removed after the grace, under a claim)
 *   | restoring (an operator's restore writes its intent, only while no attempt holds a claim);
 * - restoring → restored (the listing confirmed the key active again) | disabled (the restore
 *   withdrew before it enabled anything: the key never authenticated again) | restoring (a re-run
 *   of a restore that died takes it over and finishes it);
 * - restored → failed | disabled | revoked (after an operator's `revocations retry`, gate applying).
 * `disabled` exists only where the exchange can disable keys: the key no longer authenticates, and is
 * removed after the secret's grace. `restoring` is an intent, not a fact: the key may or may not
 * authenticate yet; no revocation attempt touches it and CreateNext makes no key while it stands.
 */
export type LedgerStatus = "pending" | "failed" | "disabled" | "restoring" | "restored" | "revoked";

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
  /** The operator's undo within the grace: the key was enabled again (audited, alerted). */
  restored?: { actor: string; reason: string; at: string };
  /** Why the last due attempt did not call the exchange (gate not ready, key is current again…). */
  heldReason?: string;
}

export interface AuditEvent {
  /** The secret the event concerns, or `_system` for events with no secret. */
  secretId: string;
  /**
   * The chain the entry goes to; the secret's own chain when absent. Heartbeats write elsewhere
   * (an instance's stream, the rejections stream) so a fleet never contends with a rotation.
   */
  stream?: string;
  actor: string;
  action: string;
  details?: Record<string, string | number | boolean | null | string[]>;
}

export interface AuditEntry extends AuditEvent {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export type AlertKind =
  | "rotation-stalled"
  | "revocation-failed"
  | "revocation-needs-operator"
  | "unknown-fingerprint"
  | "rejected-principal"
  | "rotation-aborted"
  | "revocation-refused"
  | "rotation-execution-lost"
  | "key-restored"
  | "emergency-rotation"
  | "emergency-revocation"
  | "hygiene-findings"
  | "key-expiring"
  | "unregistered-reader";

export interface Alert {
  kind: AlertKind;
  secretId: string;
  subject: string;
  details: Record<string, string | number | boolean | string[]>;
}

/** The shape of an exchange key secret's value in Secrets Manager (JSON). */
export interface ExchangeKeySecret {
  account: string;
  keyId: string;
  secret: string;
  permissions: string[];
  /** The exchange key's IP binding, when it has one (copied to the next key). */
  ipAllowlist?: string[];
}

/** What an operator is told when a command meets an entry a restore holds (status `restoring`). */
export function restoringRefusal(entryId: string): string {
  return (
    `a restore of ledger entry ${entryId} is in progress (status restoring): finish it with ` +
    `\`keyshift revocations restore ${entryId} --reason "..."\`, then run this again`
  );
}
