import type { AuditHead } from "../audit/chain";
import type {
  Alert,
  AuditEntry,
  AuditEvent,
  BreakGlass,
  ConsumerInstance,
  ConsumerRegistration,
  InstanceTouch,
  LedgerEntry,
  LedgerStatus,
  LockRecord,
  OperatorIntent,
  RotationRecord,
  SecretSettings,
  SecretState,
  VersionFingerprints,
} from "../model";

export type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "./exchange";

export interface SecretVersionInfo {
  versionId: string;
  stages: string[];
}

/** Secrets Manager as the workflow needs it. `value` strings are secret: never log them. */
export interface SecretStore {
  listVersions(secretId: string): Promise<SecretVersionInfo[]>;
  getValue(
    secretId: string,
    select: { versionId?: string; stage?: string },
  ): Promise<{ versionId: string; value: string }>;
  /** PutSecretValue with `VersionStages: ["AWSPENDING"]`; the token makes a retry harmless. */
  putPending(secretId: string, token: string, value: string): Promise<{ versionId: string }>;
  /** UpdateSecretVersionStage. */
  moveStage(secretId: string, stage: string, move: { to?: string; from?: string }): Promise<void>;
}

/**
 * A secret's resource policy (Secrets Manager Get/Put/DeleteResourcePolicy). keyshift writes only
 * the read policy the registry calls for (`core/read-policy.ts`), always with `BlockPublicPolicy`.
 */
export interface SecretPolicyStore {
  /** The policy document as stored, or undefined when the secret has none. */
  getResourcePolicy(secretId: string): Promise<string | undefined>;
  /** PutResourcePolicy with `BlockPublicPolicy: true`. */
  putResourcePolicy(secretId: string, document: string): Promise<void>;
  deleteResourcePolicy(secretId: string): Promise<void>;
}

/**
 * The unregistered-reader alert goes out once per principal per secret per day: a claim, then a
 * confirmation once the alert is sent. A claim never confirmed (the alert failed, the function died)
 * goes stale, so a retried invocation claims it again and the alert is not lost.
 */
export interface ReaderAlertLog {
  /** True when the caller now owns today's alert for (secret, principal); false when it is sent or being sent. */
  claim(secretId: string, principalArn: string, day: string, now: Date): Promise<boolean>;
  /** Records that today's alert went out. */
  confirm(secretId: string, principalArn: string, day: string, now: Date): Promise<void>;
}

export interface RotationStore {
  getSettings(secretId: string): Promise<SecretSettings | undefined>;
  putSettings(settings: SecretSettings): Promise<void>;
  listSettings(): Promise<SecretSettings[]>;
  getVersions(secretId: string): Promise<VersionFingerprints | undefined>;
  putVersions(versions: VersionFingerprints): Promise<void>;
  getRotation(secretId: string, rotationId: string): Promise<RotationRecord | undefined>;
  /**
   * Writes the whole record. With `writer` (the execution or command writing it), only while the
   * stored record names no writer or names `writer` (`fence`), and the record then names `writer`:
   * whoever takes a rotation over (resume, escalation, an operator command) claims it first
   * (`claimRotation`), and from then on a step of the execution it replaced — even one already
   * running — cannot write it (I4). Refused → `RotationInProgressError`, nothing written.
   * Without `writer`: unconditional (a new record nobody else can know of, e.g. restore's marker).
   */
  putRotation(rotation: RotationRecord, writer?: string): Promise<void>;
  /**
   * An operator command claims the record: sets only `fence` to `operation`, if the record exists
   * and its fence is still `expectedFence` (the one it read; absent when undefined). Returns the
   * record as stored. Refused → `RotationInProgressError`, nothing written.
   */
  claimRotation(
    secretId: string,
    rotationId: string,
    operation: string,
    expectedFence: string | undefined,
  ): Promise<RotationRecord>;
  /**
   * Writes the whole record only if the stored one's `fence` is still `fence` (the writer's claim)
   * and `rotation.fence` is the same. Refused → `RotationInProgressError`, nothing written.
   */
  putRotationFenced(rotation: RotationRecord & { fence: string }): Promise<void>;
  /**
   * Writes the versions record only while its `current` is still version `expectedCurrent` (a
   * rollback moving AWSCURRENT back). Refused → `RotationInProgressError`, nothing written.
   */
  putVersionsIfCurrent(versions: VersionFingerprints, expectedCurrent: string): Promise<void>;
  listRotations(secretId: string): Promise<RotationRecord[]>;
  /**
   * Settings, versions and lock of a secret in one read: what the heartbeat answers from. The
   * heartbeat's composition may serve it from a cache a few seconds old unless `fresh` is asked
   * for (see `src/adapters/heartbeat-cache.ts`); every other implementation reads the table.
   */
  getSecretState(secretId: string, opts?: { fresh?: boolean }): Promise<SecretState>;
}

/**
 * The per-secret lock (one writer per secret, invariant I4). Every write is conditional; a refused
 * write throws `RotationInProgressError` and changes nothing. The rules built on it live in
 * `core/lock.ts`.
 */
export interface RotationLock {
  /** Takes a free lock for a new rotation, or re-enters it (same rotation, not stalled). Never takes over. */
  acquire(secretId: string, rotationId: string, now: Date, leaseSeconds: number): Promise<LockRecord>;
  get(secretId: string): Promise<LockRecord | undefined>;
  /**
   * Extends the lease of a running holder — only while `execution` still drives it and it is not
   * stalled (a resumed rotation fences the execution it replaced).
   */
  renew(
    secretId: string,
    rotationId: string,
    execution: string,
    now: Date,
    leaseSeconds: number,
  ): Promise<LockRecord>;
  /**
   * Marks the lock stalled (no lease expiry) if held by `rotationId`. With `expiredAt`, only if the
   * holder is running and its lease ended before that time (a dead execution, found by someone else).
   * With `execution`, only while that execution drives it (a resume in between is left alone).
   */
  markStalled(
    secretId: string,
    rotationId: string,
    opts?: { expiredAt?: Date; execution?: string },
  ): Promise<void>;
  /**
   * Hands a stalled lock to `execution` resuming the same rotation. Refused when not stalled (a
   * second resume lost the race), an operator command holds it or an operator command's intent is
   * on it; re-entry by the same execution passes.
   */
  resume(
    secretId: string,
    rotationId: string,
    execution: string,
    now: Date,
    leaseSeconds: number,
  ): Promise<LockRecord>;
  /**
   * An operator command (`command`) takes a stalled lock for a short while; refused if another
   * command holds it, or if another command's unfinished intent is on the lock (the same command
   * may take its own over: its re-run finishes it).
   */
  holdForOperator(
    secretId: string,
    rotationId: string,
    operator: string,
    now: Date,
    seconds: number,
    command?: string,
  ): Promise<LockRecord>;
  /**
   * Records `intent` on the lock, not lease-bound: only while `operator` still holds the stalled
   * lock of `rotationId` and no other command's intent is there. From then on `resume` and every
   * other command's `holdForOperator` are refused until `clearIntent` or `release`.
   */
  recordIntent(
    secretId: string,
    rotationId: string,
    operator: string,
    intent: OperatorIntent,
  ): Promise<LockRecord>;
  /** Removes the intent only if `operator` recorded it (a no-op otherwise: someone took it over). */
  clearIntent(secretId: string, rotationId: string, operator: string): Promise<void>;
  /** Gives back the operator hold (a no-op when another command holds it or it is gone). */
  releaseOperator(secretId: string, rotationId: string, operator: string): Promise<void>;
  /** Deletes the lock only if held by `rotationId`; a no-op when already gone. */
  release(secretId: string, rotationId: string): Promise<void>;
}

/** The consumer a principal reports for within one secret (see `ConsumerRegistry.claimPrincipal`). */
export interface PrincipalClaim {
  secretId: string;
  principalArn: string;
  consumerId: string;
}

export interface ConsumerRegistry {
  register(consumer: ConsumerRegistration): Promise<void>;
  listConsumers(secretId: string): Promise<ConsumerRegistration[]>;
  findByPrincipal(principalArn: string, secretId: string): Promise<ConsumerRegistration[]>;
  /**
   * Every registration of a principal, whatever the secret (the by-principal index). The
   * heartbeat's composition may serve it from a container cache; `recheck` asks it to read again
   * if its entry is more than a moment old (a registration just made for another secret).
   */
  listByPrincipal(principalArn: string, opts?: { recheck?: boolean }): Promise<ConsumerRegistration[]>;
  listInstances(secretId: string): Promise<ConsumerInstance[]>;
  getInstance(
    secretId: string,
    consumerId: string,
    instanceId: string,
  ): Promise<ConsumerInstance | undefined>;
  putInstance(instance: ConsumerInstance): Promise<void>;
  /**
   * Claims `principalArn` for `consumerId` within the secret: one conditional write (free, or
   * already this consumer's), so of registrations racing under different ids exactly one gets it
   * — heartbeats are credited by principal, and a second id would never be live. Returns the id
   * that holds the claim afterwards: `consumerId` when it is this one's.
   */
  claimPrincipal(secretId: string, principalArn: string, consumerId: string): Promise<string>;
  /** Gives a claim back, only while `consumerId` holds it (a no-op otherwise). */
  releasePrincipal(secretId: string, principalArn: string, consumerId: string): Promise<void>;
  /** Every principal claim of the secret, with the consumer holding it. */
  listPrincipalClaims(secretId: string): Promise<PrincipalClaim[]>;
  /**
   * Deletes the registration first (its principal's heartbeats are refused from then on), then every
   * instance row of the consumer, then its principal claims; returns how many instance rows it
   * deleted. Re-running it after a crash finishes the job.
   */
  deregister(secretId: string, consumerId: string): Promise<{ instancesRemoved: number }>;
  /**
   * The steady-state heartbeat: one conditional write that moves `lastSeenAt` and `expectedBy`
   * only while the stored fingerprint is `fingerprint`. False (nothing written) when the instance
   * is new or reports another fingerprint: the caller audits the change, then `putInstance`.
   */
  touchInstance(touch: InstanceTouch): Promise<boolean>;
}

/**
 * The revocation ledger (transitions: `LedgerStatus`). Every transition a revocation attempt makes
 * is conditional on its claim (`owner`); without an `owner` it is made only while no claim is live.
 * A refused transition returns the entry as it stands.
 */
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
  /** pending|failed|disabled|restored -> revoked (the key is gone). Idempotent; never leaves `revoked`. */
  markRevoked(entryId: string, at: Date, owner?: string): Promise<LedgerEntry>;
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
  markFailed(
    entryId: string,
    update: {
      at: Date;
      error: string;
      nextAttemptAt: Date | undefined;
      needsOperator: boolean;
      stage?: "revoke" | "remove";
      owner?: string;
    },
  ): Promise<LedgerEntry>;
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
}

export interface AuditLog {
  /** Appends to `event.stream`, or to the secret's own chain when the event names none. */
  append(event: AuditEvent): Promise<AuditEntry>;
  /** The entries of one chain: a secret's id, or a stream such as `instanceAuditStream(...)`. */
  list(stream: string): Promise<AuditEntry[]>;
  /** The record anchoring the end of the trail (see `AuditHead`); undefined for a stream never appended to. */
  head(stream: string): Promise<AuditHead | undefined>;
  /**
   * Every stream ever started for `secretId` (its own chain and its instances' streams), from the
   * secret's stream register: written with each stream's first entry, never deleted with instance
   * rows, so `audit verify` finds a removed consumer's streams and a stream deleted whole.
   */
  streams(secretId: string): Promise<string[]>;
}

export interface Alerts {
  send(alert: Alert): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
