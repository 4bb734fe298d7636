import { describeLock, NEVER, refusals } from "../../src/adapters/dynamodb/lock-refusals";
import { type AuditHead, auditHeadFor, nextAuditEntry, streamOf } from "../../src/core/audit/chain";
import {
  AuditChainBrokenError,
  InvalidInputError,
  OperatorActionRejectedError,
  RotationInProgressError,
} from "../../src/core/errors";
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
} from "../../src/core/model";
import { FIRST_STAGE_STATUSES, restoringRefusal } from "../../src/core/model";
import type {
  Alerts,
  AuditLog,
  Clock,
  ConsumerRegistry,
  PrincipalClaim,
  RevocationLedger,
  RotationLock,
  RotationStore,
} from "../../src/core/ports";
import { Faults } from "./faults";

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
  /** The adapter's PutItem; with `writer`, conditional on the record naming no writer or that one. */
  async putRotation(rotation: RotationRecord, writer?: string) {
    const key = `${rotation.secretId}#${rotation.rotationId}`;
    if (writer === undefined) {
      this.rotations.set(key, copy(rotation));
      return;
    }
    const held = this.rotations.get(key);
    if (held?.fence !== undefined && held.fence !== writer) {
      throw new RotationInProgressError(refusals.writer(rotation.secretId, rotation.rotationId, writer));
    }
    this.rotations.set(key, copy({ ...rotation, fence: writer }));
  }
  /** The adapter's conditional UpdateItem: only `fence` changes, only over the expected one. */
  async claimRotation(
    secretId: string,
    rotationId: string,
    operation: string,
    expectedFence: string | undefined,
  ) {
    const held = this.fencedRecord(
      secretId,
      rotationId,
      expectedFence,
      refusals.claim(secretId, rotationId, operation),
    );
    const next = { ...held, fence: operation };
    this.rotations.set(`${secretId}#${rotationId}`, copy(next));
    return copy(next);
  }
  /** The adapter's conditional PutItem: the stored record's fence must be the writer's. */
  async putRotationFenced(rotation: RotationRecord & { fence: string }) {
    this.fencedRecord(
      rotation.secretId,
      rotation.rotationId,
      rotation.fence,
      refusals.fenced(rotation.secretId, rotation.rotationId, rotation.fence),
    );
    this.rotations.set(`${rotation.secretId}#${rotation.rotationId}`, copy(rotation));
  }
  private fencedRecord(
    secretId: string,
    rotationId: string,
    fence: string | undefined,
    refused: string,
  ): RotationRecord {
    const held = this.rotations.get(`${secretId}#${rotationId}`);
    if (!held || held.fence !== fence) throw new RotationInProgressError(refused);
    return held;
  }
  async putVersionsIfCurrent(versions: VersionFingerprints, expectedCurrent: string) {
    const held = this.versions.get(versions.secretId);
    if (held?.current?.versionId !== expectedCurrent) {
      throw new RotationInProgressError(refusals.versions(versions.secretId, expectedCurrent));
    }
    this.versions.set(versions.secretId, copy(versions));
  }
  async listRotations(secretId: string) {
    return [...this.rotations.values()]
      .filter((r) => r.secretId === secretId)
      .map(copy)
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }
  /** One consistent read of the three items, like the adapter's BatchGetItem (never cached here). */
  async getSecretState(secretId: string): Promise<SecretState> {
    const settings = this.settings.get(secretId);
    const versions = this.versions.get(secretId);
    const lock = this.locks.get(secretId);
    return copy({ settings, versions, lock });
  }

  async acquire(secretId: string, rotationId: string, now: Date, leaseSeconds: number): Promise<LockRecord> {
    const held = this.locks.get(secretId);
    // Free, or re-entry by the same running rotation: never a takeover (see the adapter).
    const free =
      !held ||
      (held.rotationId === rotationId &&
        !held.stalled &&
        (held.execution === undefined || held.execution === rotationId));
    if (!free) {
      throw new RotationInProgressError(refusals.taken(secretId, rotationId, copy(held)));
    }
    const lock: LockRecord = {
      secretId,
      rotationId,
      acquiredAt: now.toISOString(),
      leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
      stalled: false,
      execution: rotationId,
    };
    this.locks.set(secretId, copy(lock));
    return lock;
  }
  async get(secretId: string) {
    const found = this.locks.get(secretId);
    return found && copy(found);
  }
  async renew(secretId: string, rotationId: string, execution: string, now: Date, leaseSeconds: number) {
    return this.updateLock(
      secretId,
      (h) =>
        h.rotationId === rotationId && !h.stalled && (h.execution === undefined || h.execution === execution),
      (h) => ({ ...h, leaseExpiresAt: lease(now, leaseSeconds) }),
      refusals.renew(secretId, rotationId, execution),
    );
  }
  async markStalled(
    secretId: string,
    rotationId: string,
    opts: { expiredAt?: Date; execution?: string } = {},
  ) {
    const expiredAt = opts.expiredAt?.toISOString();
    await this.updateLock(
      secretId,
      (h) =>
        h.rotationId === rotationId &&
        (expiredAt === undefined || (!h.stalled && h.leaseExpiresAt < expiredAt)) &&
        (opts.execution === undefined || h.execution === undefined || h.execution === opts.execution),
      (h) => ({ ...h, stalled: true, leaseExpiresAt: NEVER }),
      refusals.stall(secretId, rotationId, expiredAt !== undefined),
    );
  }
  async resume(secretId: string, rotationId: string, execution: string, now: Date, leaseSeconds: number) {
    const at = now.toISOString();
    return this.updateLock(
      secretId,
      (h) =>
        h.rotationId === rotationId &&
        ((h.stalled && h.intent === undefined && (h.operatorUntil === undefined || h.operatorUntil < at)) ||
          (!h.stalled && h.execution === execution)),
      ({ operator: _o, operatorUntil: _u, ...h }) => ({
        ...h,
        stalled: false,
        leaseExpiresAt: lease(now, leaseSeconds),
        execution,
      }),
      refusals.resume(secretId, rotationId, execution),
    );
  }
  async holdForOperator(
    secretId: string,
    rotationId: string,
    operator: string,
    now: Date,
    seconds: number,
    command?: string,
  ) {
    const at = now.toISOString();
    return this.updateLock(
      secretId,
      (h) =>
        h.rotationId === rotationId &&
        h.stalled &&
        (h.intent === undefined || h.intent === command) &&
        (h.operatorUntil === undefined || h.operatorUntil < at || h.operator === operator),
      (h) => ({ ...h, operator, operatorUntil: lease(now, seconds) }),
      refusals.hold(secretId, rotationId, operator),
    );
  }
  async recordIntent(secretId: string, rotationId: string, operator: string, intent: OperatorIntent) {
    return this.updateLock(
      secretId,
      (h) =>
        h.rotationId === rotationId &&
        h.stalled &&
        h.operator === operator &&
        (h.intent === undefined || h.intent === intent),
      (h) => ({ ...h, intent, intentOperation: operator }),
      refusals.intent(secretId, rotationId, operator),
    );
  }
  async clearIntent(secretId: string, rotationId: string, operator: string) {
    const held = this.locks.get(secretId);
    if (held?.rotationId === rotationId && held.intentOperation === operator) {
      const { intent: _i, intentOperation: _o, ...rest } = held;
      this.locks.set(secretId, rest);
    }
  }
  async releaseOperator(secretId: string, rotationId: string, operator: string) {
    const held = this.locks.get(secretId);
    if (held?.rotationId === rotationId && held.operator === operator) {
      const { operator: _o, operatorUntil: _u, ...rest } = held;
      this.locks.set(secretId, rest);
    }
  }
  async release(secretId: string, rotationId: string) {
    // Held by someone else: releasing must never free another rotation's lock.
    if (this.locks.get(secretId)?.rotationId === rotationId) this.locks.delete(secretId);
  }
  /** Not a port method: stores a lock item as is, past every condition (one an older version wrote). */
  seedLock(lock: Omit<LockRecord, "execution"> & { execution?: string }): void {
    this.locks.set(lock.secretId, copy(lock));
  }

  /** UpdateItem with a condition: only the named attributes change (acquiredAt is kept). */
  private updateLock(
    secretId: string,
    condition: (held: LockRecord) => boolean,
    change: (held: LockRecord) => LockRecord,
    refused: string,
  ): LockRecord {
    const held = this.locks.get(secretId);
    if (!held || !condition(held)) {
      throw new RotationInProgressError(`${refused} (${describeLock(held && copy(held))})`);
    }
    const next = change(held);
    this.locks.set(secretId, copy(next));
    return copy(next);
  }
}

function lease(now: Date, seconds: number): string {
  return new Date(now.getTime() + seconds * 1000).toISOString();
}

/** Consumers table: registrations and instances, keyed like the adapter's items. */
export class FakeConsumerRegistry implements ConsumerRegistry {
  readonly instanceWrites: ConsumerInstance[] = [];
  private readonly consumers = new Map<string, ConsumerRegistration>();
  private readonly instances = new Map<string, ConsumerInstance>();
  private readonly claims = new Map<string, PrincipalClaim>();

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
  async listByPrincipal(principalArn: string) {
    return [...this.consumers.values()]
      .filter((c) => c.principalArn === principalArn)
      .map(copy)
      .sort((a, b) => a.secretId.localeCompare(b.secretId) || a.consumerId.localeCompare(b.consumerId));
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
  /** The adapter's conditional put: free, or already this consumer's; else the holder's id. */
  async claimPrincipal(secretId: string, principalArn: string, consumerId: string) {
    const key = `${secretId}#${principalArn}`;
    const held = this.claims.get(key);
    if (held && held.consumerId !== consumerId) return held.consumerId;
    this.claims.set(key, { secretId, principalArn, consumerId });
    return consumerId;
  }
  async releasePrincipal(secretId: string, principalArn: string, consumerId: string) {
    const key = `${secretId}#${principalArn}`;
    if (this.claims.get(key)?.consumerId === consumerId) this.claims.delete(key);
  }
  async listPrincipalClaims(secretId: string) {
    return [...this.claims.values()].filter((c) => c.secretId === secretId).map(copy);
  }
  async deregister(secretId: string, consumerId: string) {
    this.consumers.delete(`${secretId}#${consumerId}`);
    let instancesRemoved = 0;
    for (const [key, instance] of this.instances) {
      if (instance.secretId === secretId && instance.consumerId === consumerId) {
        this.instances.delete(key);
        instancesRemoved += 1;
      }
    }
    for (const [key, claim] of this.claims) {
      if (claim.secretId === secretId && claim.consumerId === consumerId) this.claims.delete(key);
    }
    return { instancesRemoved };
  }
  /** The adapter's conditional UpdateItem: only the two times move, only on the same fingerprint. */
  async touchInstance(touch: InstanceTouch) {
    const key = `${touch.secretId}#${touch.consumerId}#${touch.instanceId}`;
    const held = this.instances.get(key);
    if (held?.fingerprint !== touch.fingerprint) return false;
    const next = { ...held, lastSeenAt: touch.lastSeenAt, expectedBy: touch.expectedBy };
    this.instanceWrites.push(copy(next));
    this.instances.set(key, copy(next));
    return true;
  }
  /** Not a port method: what DynamoDB's TTL does to an idle instance row (the simulation uses it). */
  expireInstance(secretId: string, consumerId: string, instanceId: string): boolean {
    return this.instances.delete(`${secretId}#${consumerId}#${instanceId}`);
  }
}

interface LedgerItem {
  entry: LedgerEntry;
  /** The sparse by-sweep index key: present only while the entry still needs work. */
  sweepAt?: string;
}

/**
 * Revocation ledger with the adapter's conditions (see `LedgerStatus` and `RevocationLedger`):
 * forward-only transitions, `revoked` final, `openPending` never resets an existing entry; a
 * transition with an `owner` needs that owner's claim, one without needs no live claim; every
 * transition gives the claim back.
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
  async claim(
    entryId: string,
    expect: { status: LedgerStatus; attempts: number; dueBy?: Date },
    claim: { owner: string; at: Date; until: Date },
  ): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const e = item.entry;
    const due =
      !expect.dueBy ||
      (!e.needsOperator && e.nextAttemptAt !== undefined && e.nextAttemptAt <= expect.dueBy.toISOString());
    if (e.status !== expect.status || e.attempts !== expect.attempts || !due || claimLive(e, claim.at)) {
      return copy(e);
    }
    item.entry = { ...e, claim: { owner: claim.owner, until: claim.until.toISOString() } };
    return copy(item.entry);
  }
  async releaseClaim(entryId: string, owner: string): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    if (item.entry.claim?.owner === owner) item.entry = unclaimed(item.entry);
    return copy(item.entry);
  }
  async markRevoked(entryId: string, at: Date, owner?: string): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const status = item.entry.status;
    if (status !== "revoked" && status !== "restoring" && claimAllows(item.entry, owner, at)) {
      const { nextAttemptAt: _dropped, heldReason: _held, ...rest } = unclaimed(item.entry);
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
  async markDisabled(
    entryId: string,
    update: { at: Date; removeAfter: Date; owner?: string },
  ): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    if (
      !FIRST_STAGE_STATUSES.includes(item.entry.status) ||
      !claimAllows(item.entry, update.owner, update.at)
    ) {
      return copy(item.entry);
    }
    const at = update.at.toISOString();
    const next = update.removeAfter.toISOString();
    const { heldReason: _held, lastError: _err, restored: _restored, ...rest } = unclaimed(item.entry);
    item.entry = {
      ...rest,
      status: "disabled",
      disabledAt: at,
      updatedAt: at,
      needsOperator: false,
      attempts: item.entry.attempts + 1,
      attemptsAtDisable: item.entry.attempts + 1,
      nextAttemptAt: next,
    };
    item.sweepAt = next;
    return copy(item.entry);
  }
  async beginRestore(
    entryId: string,
    intent: { owner: string; actor: string; reason: string; at: Date },
  ): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const e = item.entry;
    const from = e.status === "restoring" || (e.status === "disabled" && !claimLive(e, intent.at));
    if (!from) return copy(e);
    const at = intent.at.toISOString();
    item.entry = {
      ...unclaimed(e),
      status: "restoring",
      restoring: { owner: intent.owner, actor: intent.actor, reason: intent.reason, at },
      updatedAt: at,
    };
    item.sweepAt = undefined;
    return copy(item.entry);
  }
  async markRestored(entryId: string, update: { owner: string; at: Date }): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const e = item.entry;
    if (e.status !== "restoring" || e.restoring?.owner !== update.owner) return copy(e);
    const at = update.at.toISOString();
    const { nextAttemptAt: _next, restoring: intent, breakGlass, ...rest } = e;
    item.entry = {
      ...rest,
      status: "restored",
      restored: { actor: intent.actor, reason: intent.reason, at },
      ...(breakGlass ? { breakGlassHistory: [...(e.breakGlassHistory ?? []), breakGlass] } : {}),
      updatedAt: at,
      needsOperator: true,
    };
    item.sweepAt = undefined;
    return copy(item.entry);
  }
  async withdrawRestore(entryId: string, update: { owner: string; at: Date }): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const e = item.entry;
    if (e.status !== "restoring" || e.restoring?.owner !== update.owner) return copy(e);
    const { restoring: _intent, ...rest } = e;
    item.entry = { ...rest, status: "disabled", updatedAt: update.at.toISOString() };
    item.sweepAt = e.nextAttemptAt;
    return copy(item.entry);
  }
  async markFailed(
    entryId: string,
    update: {
      at: Date;
      error: string;
      nextAttemptAt: Date | undefined;
      needsOperator: boolean;
      stage?: "revoke" | "remove";
      owner?: string;
    },
  ): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const removing = update.stage === "remove";
    if (removing ? item.entry.status !== "disabled" : !FIRST_STAGE_STATUSES.includes(item.entry.status)) {
      return copy(item.entry);
    }
    if (!claimAllows(item.entry, update.owner, update.at)) return copy(item.entry);
    const next = update.nextAttemptAt?.toISOString();
    const { nextAttemptAt: _dropped, heldReason: _held, ...rest } = unclaimed(item.entry);
    item.entry = {
      ...rest,
      status: removing ? "disabled" : "failed",
      updatedAt: update.at.toISOString(),
      lastError: update.error,
      attempts: item.entry.attempts + 1,
      needsOperator: update.needsOperator,
      ...(next ? { nextAttemptAt: next } : {}),
    };
    item.sweepAt = next;
    return copy(item.entry);
  }
  async hold(
    entryId: string,
    update: {
      at: Date;
      reason: string;
      nextAttemptAt: Date | undefined;
      needsOperator: boolean;
      owner?: string;
    },
  ): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    const status = item.entry.status;
    if (status === "revoked" || status === "restoring" || !claimAllows(item.entry, update.owner, update.at)) {
      return copy(item.entry);
    }
    const next = update.nextAttemptAt?.toISOString();
    const { nextAttemptAt: _dropped, ...rest } = unclaimed(item.entry);
    item.entry = {
      ...rest,
      updatedAt: update.at.toISOString(),
      heldReason: update.reason,
      needsOperator: update.needsOperator,
      ...(next ? { nextAttemptAt: next } : {}),
    };
    item.sweepAt = next;
    return copy(item.entry);
  }
  async requeue(entryId: string, at: Date): Promise<LedgerEntry> {
    const item = this.items.get(entryId);
    if (!item) throw new InvalidInputError(`no ledger entry ${entryId}: see \`keyshift revocations list\``);
    if (item.entry.status === "revoked")
      throw new OperatorActionRejectedError(`ledger entry ${entryId} is already revoked: nothing to retry`);
    if (item.entry.status === "restoring") throw new OperatorActionRejectedError(restoringRefusal(entryId));
    item.entry = {
      ...item.entry,
      needsOperator: false,
      nextAttemptAt: at.toISOString(),
      updatedAt: at.toISOString(),
    };
    item.sweepAt = at.toISOString();
    return copy(item.entry);
  }
  async recordBreakGlass(entryId: string, breakGlass: BreakGlass): Promise<LedgerEntry> {
    const item = this.mustGet(entryId);
    if (item.entry.status === "revoked" || item.entry.status === "restoring") return copy(item.entry);
    item.entry = {
      ...item.entry,
      breakGlass: item.entry.breakGlass ?? copy(breakGlass),
      updatedAt: breakGlass.at,
    };
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

/** Another attempt's claim still runs at `at`. */
function claimLive(entry: LedgerEntry, at: Date): boolean {
  return entry.claim !== undefined && entry.claim.until > at.toISOString();
}

/** A transition by `owner` needs its claim; one without an owner needs no live claim. */
function claimAllows(entry: LedgerEntry, owner: string | undefined, at: Date): boolean {
  return owner ? entry.claim?.owner === owner : !claimLive(entry, at);
}

function unclaimed(entry: LedgerEntry): LedgerEntry {
  const { claim: _claim, ...rest } = entry;
  return rest;
}

/**
 * Append-only audit trail, one hash chain per secret, anchored by a head per stream with the
 * adapter's protocol (`AuditHead` in src/core/audit/chain.ts): the head (the intent) first, then
 * the entry, then the head committed; an uncommitted head's entry is stored by the next append.
 * `faults` fails an append before it writes anything (`append`), or crashes it after the head
 * (`putEntry`) or after the entry (`commit`). `remove` and `removeHead` tamper like a raw DeleteItem.
 */
export class FakeAuditLog implements AuditLog {
  readonly faults = new Faults<"append" | "putEntry" | "commit">();
  private readonly chains = new Map<string, Map<number, AuditEntry>>();
  private readonly heads = new Map<string, AuditHead>();
  /** The stream register of each secret (`streamRegisterOf` in the adapter). */
  private readonly registers = new Map<string, Set<string>>();
  constructor(private readonly clock: Clock) {}

  async append(event: AuditEvent): Promise<AuditEntry> {
    this.faults.check("append");
    const key = streamOf(event);
    const stream = this.chains.get(key) ?? new Map<number, AuditEntry>();
    this.chains.set(key, stream);
    const head = this.heads.get(key);
    if (!head && stream.size > 0) {
      throw new AuditChainBrokenError(`audit trail of ${key} has entries but no head record`);
    }
    if (!head && this.registers.get(event.secretId)?.has(key)) {
      throw new AuditChainBrokenError(
        `audit trail of ${key} was started (the stream register of ${event.secretId} lists it) but its head ` +
          `and entries are gone: deleted whole; nothing appended; see \`keyshift audit verify ${event.secretId}\``,
      );
    }
    if (head && !head.committed) {
      if (head.seq === 1) this.register(event.secretId, key);
      if (!stream.has(head.seq)) stream.set(head.seq, copy(head.entry));
    }
    const entry = nextAuditEntry(head && copy(head.entry), copy(event), this.clock.now());
    this.heads.set(key, auditHeadFor(copy(entry)));
    if (entry.seq === 1) this.register(event.secretId, key);
    this.faults.check("putEntry");
    stream.set(entry.seq, copy(entry));
    this.faults.check("commit");
    this.heads.set(key, auditHeadFor(copy(entry), true));
    return copy(entry);
  }
  async list(stream: string): Promise<AuditEntry[]> {
    return this.sorted(stream).map(copy);
  }
  async head(stream: string): Promise<AuditHead | undefined> {
    const found = this.heads.get(stream);
    return found && copy(found);
  }
  async streams(secretId: string): Promise<string[]> {
    return [...(this.registers.get(secretId) ?? [])].sort();
  }
  /** Every stream appended to, the secrets' own chains and the others. */
  streamIds(): string[] {
    return [...this.chains.keys()];
  }
  /** Every stored entry of every stream. */
  all(): AuditEntry[] {
    return [...this.chains.keys()].flatMap((secretId) => this.sorted(secretId)).map(copy);
  }
  actions(secretId: string): string[] {
    return this.sorted(secretId).map((e) => e.action);
  }
  /** Deletes entries behind the log's back, as a raw DeleteItem on the table would. */
  remove(secretId: string, ...seqs: number[]): void {
    for (const seq of seqs) this.chains.get(secretId)?.delete(seq);
  }
  /** Deletes the head record behind the log's back. */
  removeHead(secretId: string): void {
    this.heads.delete(secretId);
  }

  /** Deletes a secret's stream register behind the log's back. */
  removeRegister(secretId: string): void {
    this.registers.delete(secretId);
  }

  private register(secretId: string, stream: string): void {
    const set = this.registers.get(secretId) ?? new Set<string>();
    this.registers.set(secretId, set.add(stream));
  }

  private sorted(secretId: string): AuditEntry[] {
    return [...(this.chains.get(secretId)?.values() ?? [])].sort((a, b) => a.seq - b.seq);
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
