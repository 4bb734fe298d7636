import { AUDIT_GENESIS_HASH, auditHash } from "../../../src/core/audit-chain";
import { RotationInProgressError } from "../../../src/core/errors";
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
} from "../../../src/core/model";
import type {
  Alerts,
  AuditLog,
  Clock,
  ConsumerRegistry,
  RevocationLedger,
  RotationLock,
  RotationStore,
} from "../../../src/core/ports";

/** A stalled lock never expires by lease (same sentinel as the DynamoDB adapter). */
const NEVER = "9999-12-31T23:59:59.999Z";

/** What a DynamoDB round trip does to an item: a copy, with undefined attributes dropped. */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  private ms: number;
  constructor(start = "2030-01-01T00:00:00.000Z") {
    this.ms = Date.parse(start);
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  set(iso: string): void {
    this.ms = Date.parse(iso);
  }
}

/** Rotations table: settings, versions, rotation records and the lock with the adapter's conditions. */
export class FakeRotationStore implements RotationStore, RotationLock {
  private readonly settings = new Map<string, SecretSettings>();
  private readonly versions = new Map<string, VersionFingerprints>();
  private readonly rotations = new Map<string, RotationRecord>();
  private readonly locks = new Map<string, LockRecord>();

  async getSettings(secretId: string) {
    const found = this.settings.get(secretId);
    return found && copy(found);
  }
  async putSettings(settings: SecretSettings) {
    this.settings.set(settings.secretId, copy(settings));
  }
  async listSettings() {
    return [...this.settings.values()].map(copy);
  }
  async getVersions(secretId: string) {
    const found = this.versions.get(secretId);
    return found && copy(found);
  }
  async putVersions(versions: VersionFingerprints) {
    this.versions.set(versions.secretId, copy(versions));
  }
  async getRotation(secretId: string, rotationId: string) {
    const found = this.rotations.get(`${secretId}#${rotationId}`);
    return found && copy(found);
  }
  async putRotation(rotation: RotationRecord) {
    this.rotations.set(`${rotation.secretId}#${rotation.rotationId}`, copy(rotation));
  }
  async listRotations(secretId: string) {
    return [...this.rotations.values()]
      .filter((r) => r.secretId === secretId)
      .map(copy)
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async acquire(secretId: string, rotationId: string, now: Date, leaseSeconds: number): Promise<LockRecord> {
    const held = this.locks.get(secretId);
    // Free, re-entry by the same rotation, or a running holder whose lease ran out.
    const free =
      !held ||
      (held.rotationId === rotationId && !held.stalled) ||
      (!held.stalled && held.leaseExpiresAt < now.toISOString());
    if (!free) {
      throw new RotationInProgressError(
        `secret ${secretId} is being rotated by ${held.rotationId}` +
          (held.stalled
            ? " (stalled: resume, force-revoke or roll it back)"
            : ` (lease until ${held.leaseExpiresAt})`) +
          `; rotation ${rotationId} changed nothing`,
      );
    }
    const lock: LockRecord = {
      secretId,
      rotationId,
      acquiredAt: now.toISOString(),
      leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
      stalled: false,
    };
    this.locks.set(secretId, copy(lock));
    return lock;
  }
  async get(secretId: string) {
    const found = this.locks.get(secretId);
    return found && copy(found);
  }
  async markStalled(secretId: string, rotationId: string) {
    this.updateHeld(secretId, rotationId, true, NEVER);
  }
  async resume(secretId: string, rotationId: string, now: Date, leaseSeconds: number): Promise<LockRecord> {
    const leaseExpiresAt = new Date(now.getTime() + leaseSeconds * 1000).toISOString();
    this.updateHeld(secretId, rotationId, false, leaseExpiresAt);
    return { secretId, rotationId, acquiredAt: now.toISOString(), leaseExpiresAt, stalled: false };
  }
  async release(secretId: string, rotationId: string) {
    // Held by someone else: releasing must never free another rotation's lock.
    if (this.locks.get(secretId)?.rotationId === rotationId) this.locks.delete(secretId);
  }

  private updateHeld(secretId: string, rotationId: string, stalled: boolean, leaseExpiresAt: string): void {
    const held = this.locks.get(secretId);
    if (held?.rotationId !== rotationId) {
      throw new RotationInProgressError(`rotation ${rotationId} does not hold the lock of ${secretId}`);
    }
    // UpdateItem keeps acquiredAt: only these two attributes change.
    this.locks.set(secretId, { ...held, stalled, leaseExpiresAt });
  }
}

/** Consumers table: registrations and instances, keyed like the adapter's items. */
export class FakeConsumerRegistry implements ConsumerRegistry {
  readonly instanceWrites: ConsumerInstance[] = [];
  private readonly consumers = new Map<string, ConsumerRegistration>();
  private readonly instances = new Map<string, ConsumerInstance>();

  async register(consumer: ConsumerRegistration) {
    this.consumers.set(`${consumer.secretId}#${consumer.consumerId}`, copy(consumer));
  }
  async listConsumers(secretId: string) {
    return [...this.consumers.values()].filter((c) => c.secretId === secretId).map(copy);
  }
  async findByPrincipal(principalArn: string, secretId: string) {
    return [...this.consumers.values()]
      .filter((c) => c.principalArn === principalArn && c.secretId === secretId)
      .map(copy)
      .sort((a, b) => a.consumerId.localeCompare(b.consumerId));
  }
  async listInstances(secretId: string) {
    return [...this.instances.values()].filter((i) => i.secretId === secretId).map(copy);
  }
  async getInstance(secretId: string, consumerId: string, instanceId: string) {
    const found = this.instances.get(`${secretId}#${consumerId}#${instanceId}`);
    return found && copy(found);
  }
  async putInstance(instance: ConsumerInstance) {
    this.instanceWrites.push(copy(instance));
    this.instances.set(`${instance.secretId}#${instance.consumerId}#${instance.instanceId}`, copy(instance));
  }
}

interface LedgerItem {
  entry: LedgerEntry;
  /** The sparse by-sweep index key: present only while the entry still needs work. */
  sweepAt?: string;
}

/**
 * Revocation ledger with the adapter's forward-only conditions: pending → revoked | failed,
 * failed → failed | revoked, `revoked` final; `openPending` never resets an existing entry.
 */
export class FakeRevocationLedger implements RevocationLedger {
  private readonly items = new Map<string, LedgerItem>();

  async get(entryId: string) {
    const item = this.items.get(entryId);
    return item && copy(item.entry);
  }
  async openPending(entry: LedgerEntry): Promise<LedgerEntry> {
    const existing = this.items.get(entry.entryId);
    if (existing) return copy(existing.entry);
    const stored: LedgerEntry = { ...copy(entry), status: "pending" };
    this.items.set(entry.entryId, { entry: stored, sweepAt: entry.nextAttemptAt });
    return copy(stored);
  }
  async markRevoked(entryId: string, at: Date): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    if (item.entry.status === "pending" || item.entry.status === "failed") {
      const { nextAttemptAt: _dropped, ...rest } = item.entry;
      item.entry = {
        ...rest,
        status: "revoked",
        revokedAt: at.toISOString(),
        updatedAt: at.toISOString(),
        attempts: item.entry.attempts + 1,
        needsOperator: false,
      };
      item.sweepAt = undefined;
    }
    return copy(item.entry);
  }
  async markFailed(
    entryId: string,
    update: { at: Date; error: string; nextAttemptAt: Date | undefined; needsOperator: boolean },
  ): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    if (item.entry.status === "revoked") return copy(item.entry);
    const next = update.nextAttemptAt?.toISOString();
    const { nextAttemptAt: _dropped, ...rest } = item.entry;
    item.entry = {
      ...rest,
      status: "failed",
      updatedAt: update.at.toISOString(),
      lastError: update.error,
      attempts: item.entry.attempts + 1,
      needsOperator: update.needsOperator,
      ...(next ? { nextAttemptAt: next } : {}),
    };
    item.sweepAt = next;
    return copy(item.entry);
  }
  /** `keyshift revocations retry`: back in the sweeper's queue now, unless already revoked. */
  async requeue(entryId: string, at: Date): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    if (item.entry.status === "revoked") throw new Error(`ledger entry ${entryId} is already revoked`);
    const when = at.toISOString();
    item.entry = { ...item.entry, needsOperator: false, nextAttemptAt: when, updatedAt: when };
    item.sweepAt = when;
    return copy(item.entry);
  }
  async listDue(now: Date, limit: number): Promise<LedgerEntry[]> {
    const cutoff = now.toISOString();
    return [...this.items.values()]
      .filter((i): i is LedgerItem & { sweepAt: string } => i.sweepAt !== undefined && i.sweepAt <= cutoff)
      .sort((a, b) => a.sweepAt.localeCompare(b.sweepAt))
      .slice(0, limit)
      .map((i) => copy(i.entry));
  }
  async listAll(): Promise<LedgerEntry[]> {
    return [...this.items.values()]
      .map((i) => copy(i.entry))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private mustGet(entryId: string): LedgerItem {
    const item = this.items.get(entryId);
    // The adapter's conditional update fails on a missing item, then its re-read finds nothing.
    if (!item) throw new Error(`ledger entry ${entryId} vanished`);
    return item;
  }
}

/** Append-only audit trail, one hash chain per secret. */
export class FakeAuditLog implements AuditLog {
  private readonly streams = new Map<string, AuditEntry[]>();
  constructor(private readonly clock: Clock) {}

  async append(event: AuditEvent): Promise<AuditEntry> {
    const stream = this.streams.get(event.secretId) ?? [];
    const previous = stream.at(-1);
    const body: Omit<AuditEntry, "hash"> = {
      ...copy(event),
      seq: (previous?.seq ?? 0) + 1,
      at: this.clock.now().toISOString(),
      prevHash: previous?.hash ?? AUDIT_GENESIS_HASH,
    };
    const entry: AuditEntry = { ...body, hash: auditHash(body) };
    stream.push(entry);
    this.streams.set(event.secretId, stream);
    return copy(entry);
  }
  async list(secretId: string): Promise<AuditEntry[]> {
    return (this.streams.get(secretId) ?? []).map(copy);
  }
  /** Every entry of every stream. */
  all(): AuditEntry[] {
    return [...this.streams.values()].flat().map(copy);
  }
  actions(secretId: string): string[] {
    return (this.streams.get(secretId) ?? []).map((e) => e.action);
  }
}

export class FakeAlerts implements Alerts {
  readonly sent: Alert[] = [];
  async send(alert: Alert): Promise<void> {
    this.sent.push(copy(alert));
  }
  kinds(): string[] {
    return this.sent.map((a) => a.kind);
  }
}
