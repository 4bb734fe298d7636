import { InvalidInputError, RotationInProgressError } from "../../src/core/errors";
import type {
  LockRecord,
  OperatorIntent,
  RotationRecord,
  SecretSettings,
  SecretState,
  VersionFingerprints,
} from "../../src/core/model";
import type { RotationLock, RotationStore, SettingsPage } from "../../src/core/ports";
import { describeLock, NEVER, refusals } from "../../src/core/rotation/lock-refusals";
import { copy } from "./copy";

/**
 * The rotations table in memory: settings, versions, rotation records and the lock (both ports in
 * one object, as the composition root wires `DynamoRotationStore`). Proven equal to it by
 * rotation-lock.suite.ts and rotation-store.suite.ts (test/contract/ports/).
 */
export class InMemoryRotationStore implements RotationStore, RotationLock {
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
  /** In secret id order; the cursor is the page's last id. */
  async listSettingsPage(opts: { limit: number; cursor?: string }): Promise<SettingsPage> {
    const after =
      opts.cursor === undefined ? undefined : Buffer.from(opts.cursor, "base64url").toString("utf8");
    if (after !== undefined && (after === "" || Buffer.from(after).toString("base64url") !== opts.cursor))
      throw new InvalidInputError(
        "the page cursor is not one keyshift list gave: start again without --next-token",
      );
    const ids = [...this.settings.keys()].sort().filter((id) => after === undefined || id > after);
    const page = ids.slice(0, opts.limit);
    const settings = page.map((id) => copy(this.settings.get(id) as SecretSettings));
    const last = page.at(-1);
    return ids.length > page.length && last !== undefined
      ? { settings, cursor: Buffer.from(last).toString("base64url") }
      : { settings };
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
