import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { RotationInProgressError } from "../../core/errors";
import type { LockRecord, RotationRecord, SecretSettings, VersionFingerprints } from "../../core/model";
import type { RotationLock, RotationStore } from "../../core/ports";
import { isConditionFailed, queryAll, strip } from "./client";

/** A stalled lock never expires by lease: only an operator action moves it. */
const NEVER = "9999-12-31T23:59:59.999Z";

/**
 * Settings, version fingerprints, rotation history and the per-secret lock, one partition per
 * secret in the rotations table (sk `SETTINGS` | `VERSIONS` | `LOCK` | `ROTATION#<id>`).
 */
export class DynamoRotationStore implements RotationStore, RotationLock {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private async getItem<T>(secretId: string, sk: string): Promise<T | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { secretId, sk }, ConsistentRead: true }),
    );
    return out.Item ? strip<T>(out.Item, "sk") : undefined;
  }

  private async putItem(sk: string, item: { secretId: string }): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...item, sk } }));
  }

  getSettings(secretId: string) {
    return this.getItem<SecretSettings>(secretId, "SETTINGS");
  }
  putSettings(settings: SecretSettings) {
    return this.putItem("SETTINGS", settings);
  }
  async listSettings(): Promise<SecretSettings[]> {
    const items: SecretSettings[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: "sk = :s",
          ExpressionAttributeValues: { ":s": "SETTINGS" },
          ExclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []).map((i) => strip<SecretSettings>(i, "sk")));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
  getVersions(secretId: string) {
    return this.getItem<VersionFingerprints>(secretId, "VERSIONS");
  }
  putVersions(versions: VersionFingerprints) {
    return this.putItem("VERSIONS", versions);
  }
  getRotation(secretId: string, rotationId: string) {
    return this.getItem<RotationRecord>(secretId, `ROTATION#${rotationId}`);
  }
  putRotation(rotation: RotationRecord) {
    return this.putItem(`ROTATION#${rotation.rotationId}`, rotation);
  }
  async listRotations(secretId: string): Promise<RotationRecord[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "secretId = :s AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":s": secretId, ":p": "ROTATION#" },
    });
    return items
      .map((i) => strip<RotationRecord>(i, "sk"))
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async acquire(secretId: string, rotationId: string, now: Date, leaseSeconds: number): Promise<LockRecord> {
    const lock: LockRecord = {
      secretId,
      rotationId,
      acquiredAt: now.toISOString(),
      leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
      stalled: false,
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...lock, sk: "LOCK" },
          // Free, re-entry by the same running rotation, or a running holder whose lease ran out. A stalled
          // lock is only ever handed over by `resume`.
          ConditionExpression:
            "attribute_not_exists(secretId) OR (rotationId = :rid AND stalled = :false) OR (stalled = :false AND leaseExpiresAt < :now)",
          ExpressionAttributeValues: { ":rid": rotationId, ":false": false, ":now": now.toISOString() },
        }),
      );
      return lock;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      const held = await this.get(secretId);
      throw new RotationInProgressError(
        `secret ${secretId} is being rotated by ${held?.rotationId ?? "another rotation"}` +
          (held?.stalled
            ? " (stalled: resume, force-revoke or roll it back)"
            : ` (lease until ${held?.leaseExpiresAt})`) +
          `; rotation ${rotationId} changed nothing`,
        { cause: err },
      );
    }
  }

  get(secretId: string) {
    return this.getItem<LockRecord>(secretId, "LOCK");
  }

  private async updateHeld(secretId: string, rotationId: string, stalled: boolean, leaseExpiresAt: string) {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { secretId, sk: "LOCK" },
          UpdateExpression: "SET stalled = :st, leaseExpiresAt = :lease",
          ConditionExpression: "rotationId = :rid",
          ExpressionAttributeValues: { ":st": stalled, ":lease": leaseExpiresAt, ":rid": rotationId },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw new RotationInProgressError(`rotation ${rotationId} does not hold the lock of ${secretId}`, {
        cause: err,
      });
    }
  }

  async markStalled(secretId: string, rotationId: string): Promise<void> {
    await this.updateHeld(secretId, rotationId, true, NEVER);
  }

  async resume(secretId: string, rotationId: string, now: Date, leaseSeconds: number): Promise<LockRecord> {
    const leaseExpiresAt = new Date(now.getTime() + leaseSeconds * 1000).toISOString();
    await this.updateHeld(secretId, rotationId, false, leaseExpiresAt);
    return { secretId, rotationId, acquiredAt: now.toISOString(), leaseExpiresAt, stalled: false };
  }

  async release(secretId: string, rotationId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { secretId, sk: "LOCK" },
          ConditionExpression: "attribute_not_exists(secretId) OR rotationId = :rid",
          ExpressionAttributeValues: { ":rid": rotationId },
        }),
      );
    } catch (err) {
      // Held by someone else: releasing must never free another rotation's lock.
      if (!isConditionFailed(err)) throw err;
    }
  }
}
