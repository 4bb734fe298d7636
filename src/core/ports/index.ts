import type {
  Alert,
  AuditEntry,
  AuditEvent,
  ConsumerInstance,
  ConsumerRegistration,
  LedgerEntry,
  LockRecord,
  RotationRecord,
  SecretSettings,
  VersionFingerprints,
} from "../model";

export type { CreatedExchangeKey, Exchange, ExchangeKey, ExchangeKeyCredential } from "./exchange";

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

export interface RotationStore {
  getSettings(secretId: string): Promise<SecretSettings | undefined>;
  putSettings(settings: SecretSettings): Promise<void>;
  listSettings(): Promise<SecretSettings[]>;
  getVersions(secretId: string): Promise<VersionFingerprints | undefined>;
  putVersions(versions: VersionFingerprints): Promise<void>;
  getRotation(secretId: string, rotationId: string): Promise<RotationRecord | undefined>;
  putRotation(rotation: RotationRecord): Promise<void>;
  listRotations(secretId: string): Promise<RotationRecord[]>;
}

export interface RotationLock {
  /**
   * Conditional write: succeeds when free, held by the same rotation (re-entry) or past its lease;
   * otherwise throws `RotationInProgressError` and changes nothing.
   */
  acquire(secretId: string, rotationId: string, now: Date, leaseSeconds: number): Promise<LockRecord>;
  get(secretId: string): Promise<LockRecord | undefined>;
  /** Marks the lock stalled (no lease expiry) — only if still held by `rotationId`. */
  markStalled(secretId: string, rotationId: string): Promise<void>;
  /** Hands a stalled/expired lock to a resuming execution of the same rotation. */
  resume(secretId: string, rotationId: string, now: Date, leaseSeconds: number): Promise<LockRecord>;
  /** Deletes the lock only if held by `rotationId`; a no-op when already gone. */
  release(secretId: string, rotationId: string): Promise<void>;
}

export interface ConsumerRegistry {
  register(consumer: ConsumerRegistration): Promise<void>;
  listConsumers(secretId: string): Promise<ConsumerRegistration[]>;
  findByPrincipal(principalArn: string, secretId: string): Promise<ConsumerRegistration[]>;
  listInstances(secretId: string): Promise<ConsumerInstance[]>;
  getInstance(
    secretId: string,
    consumerId: string,
    instanceId: string,
  ): Promise<ConsumerInstance | undefined>;
  putInstance(instance: ConsumerInstance): Promise<void>;
}

export interface RevocationLedger {
  get(entryId: string): Promise<LedgerEntry | undefined>;
  /** Creates the `pending` entry, or returns the existing one (never resets it). */
  openPending(entry: LedgerEntry): Promise<LedgerEntry>;
  /** pending|failed -> revoked. Idempotent; never leaves `revoked`. */
  markRevoked(entryId: string, at: Date): Promise<LedgerEntry>;
  /** pending|failed -> failed with one more attempt; refused (returns current) once revoked. */
  markFailed(
    entryId: string,
    update: { at: Date; error: string; nextAttemptAt: Date | undefined; needsOperator: boolean },
  ): Promise<LedgerEntry>;
  /** Entries still to work on whose next attempt is due (paginates the sparse index). */
  listDue(now: Date, limit: number): Promise<LedgerEntry[]>;
  listAll(): Promise<LedgerEntry[]>;
}

export interface AuditLog {
  append(event: AuditEvent): Promise<AuditEntry>;
  list(secretId: string): Promise<AuditEntry[]>;
}

export interface Alerts {
  send(alert: Alert): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
