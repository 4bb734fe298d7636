/** The rotations table: settings, versions, rotation records, and the per-secret lock (I4). */
import type {
  LockRecord,
  OperatorIntent,
  RotationRecord,
  SecretSettings,
  SecretState,
  VersionFingerprints,
} from "../model";

export interface SettingsPage {
  settings: SecretSettings[];
  cursor?: string;
}

export interface RotationStore {
  getSettings(secretId: string): Promise<SecretSettings | undefined>;
  putSettings(settings: SecretSettings): Promise<void>;
  listSettings(): Promise<SecretSettings[]>;
  /**
   * One page of the enrolled secrets, at most `limit`, in the store's own order; `cursor` (opaque)
   * continues after the last one of the page before and is absent once the last page is read.
   * A page costs what it returns, not the fleet: `keyshift list`'s first page stays fast at 10,000
   * secrets. A cursor this store did not make → `InvalidInputError`.
   */
  listSettingsPage(opts: { limit: number; cursor?: string }): Promise<SettingsPage>;
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
