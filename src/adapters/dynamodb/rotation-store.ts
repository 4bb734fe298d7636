import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { RotationInProgressError } from "../../core/errors";
import type {
  LockRecord,
  OperatorIntent,
  RotationRecord,
  SecretSettings,
  SecretState,
  VersionFingerprints,
} from "../../core/model";
import type { RotationLock, RotationStore } from "../../core/ports";
import { isConditionFailed, queryAll, strip } from "./client";
import { readSecretState } from "./secret-state";

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
  async putRotation(rotation: RotationRecord, writer?: string): Promise<void> {
    if (writer === undefined) return this.putItem(`ROTATION#${rotation.rotationId}`, rotation);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...rotation, fence: writer, sk: `ROTATION#${rotation.rotationId}` },
          ConditionExpression: "attribute_not_exists(#fence) OR #fence = :writer",
          ExpressionAttributeNames: { "#fence": "fence" },
          ExpressionAttributeValues: { ":writer": writer },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw new RotationInProgressError(
        `rotation ${rotation.rotationId} of ${rotation.secretId} refused the write of ${writer}: taken over by another execution or command`,
        { cause: err },
      );
    }
  }
  /** Sets only `fence`, over the one the command read (absent → the record must have none). */
  async claimRotation(
    secretId: string,
    rotationId: string,
    operation: string,
    expectedFence: string | undefined,
  ): Promise<RotationRecord> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { secretId, sk: `ROTATION#${rotationId}` },
          UpdateExpression: "SET #fence = :op",
          ConditionExpression:
            expectedFence === undefined
              ? "attribute_exists(secretId) AND attribute_not_exists(#fence)"
              : "attribute_exists(secretId) AND #fence = :expected",
          ExpressionAttributeNames: { "#fence": "fence" },
          ExpressionAttributeValues: {
            ":op": operation,
            ...(expectedFence === undefined ? {} : { ":expected": expectedFence }),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return strip<RotationRecord>(out.Attributes ?? {}, "sk");
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw new RotationInProgressError(
        `rotation ${rotationId} of ${secretId} refused the claim of ${operation}: claimed by another command meanwhile`,
        { cause: err },
      );
    }
  }
  /** The whole record, only while the stored fence is the writer's own. */
  async putRotationFenced(rotation: RotationRecord & { fence: string }): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...rotation, sk: `ROTATION#${rotation.rotationId}` },
          ConditionExpression: "#fence = :fence",
          ExpressionAttributeNames: { "#fence": "fence" },
          ExpressionAttributeValues: { ":fence": rotation.fence },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw new RotationInProgressError(
        `rotation ${rotation.rotationId} of ${rotation.secretId} refused the write of ${rotation.fence}: claimed by another command`,
        { cause: err },
      );
    }
  }
  /** The versions record, only while it still names `expectedCurrent` as current. */
  async putVersionsIfCurrent(versions: VersionFingerprints, expectedCurrent: string): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...versions, sk: "VERSIONS" },
          ConditionExpression: "#current.versionId = :expected",
          ExpressionAttributeNames: { "#current": "current" },
          ExpressionAttributeValues: { ":expected": expectedCurrent },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw new RotationInProgressError(
        `versions of ${versions.secretId} refused the write: current is no longer ${expectedCurrent}`,
        { cause: err },
      );
    }
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

  getSecretState(secretId: string, opts: { fresh?: boolean } = {}): Promise<SecretState> {
    return readSecretState(this.db, this.table, secretId, opts);
  }

  async acquire(secretId: string, rotationId: string, now: Date, leaseSeconds: number): Promise<LockRecord> {
    const lock: LockRecord = {
      secretId,
      rotationId,
      acquiredAt: now.toISOString(),
      leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
      stalled: false,
      execution: rotationId,
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...lock, sk: "LOCK" },
          // Free, or re-entry by the same running rotation. Never a takeover: a holder whose lease ran
          // out may have promoted, so `core/lock.ts` stalls it for an operator instead.
          // Re-entry only while the rotation's own execution drives it: after a resume, the execution
          // it replaced must not take the lock back.
          ConditionExpression:
            "attribute_not_exists(secretId) OR (rotationId = :rid AND stalled = :false AND (#exec = :rid OR attribute_not_exists(#exec)))",
          ExpressionAttributeNames: { "#exec": "execution" },
          ExpressionAttributeValues: { ":rid": rotationId, ":false": false },
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

  /** One conditional update of the lock item; a failed condition becomes `RotationInProgressError`. */
  private async updateLock(
    secretId: string,
    update: { set: string; remove?: string; condition: string; values: Record<string, unknown> },
    refused: string,
  ): Promise<LockRecord> {
    const expression = `SET ${update.set}${update.remove ? ` REMOVE ${update.remove}` : ""}`;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { secretId, sk: "LOCK" },
          UpdateExpression: expression,
          ConditionExpression: update.condition,
          ExpressionAttributeValues: update.values,
          ...attributeNames(`${expression} ${update.condition}`),
          ReturnValues: "ALL_NEW",
        }),
      );
      return strip<LockRecord>(out.Attributes ?? {}, "sk");
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      const held = await this.get(secretId);
      throw new RotationInProgressError(`${refused} (${describeLock(held)})`, { cause: err });
    }
  }

  async renew(secretId: string, rotationId: string, execution: string, now: Date, leaseSeconds: number) {
    return this.updateLock(
      secretId,
      {
        set: "leaseExpiresAt = :lease",
        condition:
          "rotationId = :rid AND stalled = :false AND (#exec = :exec OR attribute_not_exists(#exec))",
        values: {
          ":lease": new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
          ":rid": rotationId,
          ":false": false,
          ":exec": execution,
        },
      },
      `execution ${execution} of rotation ${rotationId} no longer drives the lock of ${secretId}`,
    );
  }

  async markStalled(
    secretId: string,
    rotationId: string,
    opts: { expiredAt?: Date; execution?: string } = {},
  ): Promise<void> {
    const expired = opts.expiredAt !== undefined;
    const fenced = opts.execution !== undefined;
    let condition = expired
      ? "rotationId = :rid AND stalled = :false AND leaseExpiresAt < :now"
      : "rotationId = :rid";
    if (fenced) condition += " AND (#exec = :exec OR attribute_not_exists(#exec))";
    await this.updateLock(
      secretId,
      {
        set: "stalled = :true, leaseExpiresAt = :never",
        condition,
        values: {
          ":true": true,
          ":never": NEVER,
          ":rid": rotationId,
          ...(expired ? { ":false": false, ":now": opts.expiredAt?.toISOString() } : {}),
          ...(fenced ? { ":exec": opts.execution } : {}),
        },
      },
      `rotation ${rotationId} does not hold the lock of ${secretId}${expired ? " with an expired lease" : ""}`,
    );
  }

  async resume(secretId: string, rotationId: string, execution: string, now: Date, leaseSeconds: number) {
    return this.updateLock(
      secretId,
      {
        set: "stalled = :false, leaseExpiresAt = :lease, #exec = :exec",
        remove: "#op, #opUntil",
        // Only a stalled lock no operator command holds, so of two racing resumes one wins; the
        // winner may re-enter (its BeginRotation retried).
        // Never while an operator command's intent is on it (not lease-bound: see `recordIntent`).
        condition:
          "rotationId = :rid AND ((stalled = :true AND attribute_not_exists(#intent) AND (attribute_not_exists(#opUntil) OR #opUntil < :now)) OR (stalled = :false AND #exec = :exec))",
        values: {
          ":false": false,
          ":true": true,
          ":lease": new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
          ":exec": execution,
          ":rid": rotationId,
          ":now": now.toISOString(),
        },
      },
      `rotation ${rotationId} of ${secretId} cannot be resumed by ${execution}`,
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
    return this.updateLock(
      secretId,
      {
        set: "#op = :op, #opUntil = :until",
        condition:
          `rotationId = :rid AND stalled = :true AND ${command === undefined ? "attribute_not_exists(#intent)" : "(attribute_not_exists(#intent) OR #intent = :cmd)"} AND ` +
          "(attribute_not_exists(#opUntil) OR #opUntil < :now OR #op = :op)",
        values: {
          ":op": operator,
          ":until": new Date(now.getTime() + seconds * 1000).toISOString(),
          ":rid": rotationId,
          ":true": true,
          ":now": now.toISOString(),
          ...(command === undefined ? {} : { ":cmd": command }),
        },
      },
      `operator command ${operator} cannot hold rotation ${rotationId} of ${secretId}`,
    );
  }

  async recordIntent(secretId: string, rotationId: string, operator: string, intent: OperatorIntent) {
    return this.updateLock(
      secretId,
      {
        set: "#intent = :intent, #intentOp = :op",
        condition:
          "rotationId = :rid AND stalled = :true AND #op = :op AND (attribute_not_exists(#intent) OR #intent = :intent)",
        values: { ":intent": intent, ":op": operator, ":rid": rotationId, ":true": true },
      },
      `operator command ${operator} no longer holds rotation ${rotationId} of ${secretId}`,
    );
  }

  async clearIntent(secretId: string, rotationId: string, operator: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { secretId, sk: "LOCK" },
          UpdateExpression: "REMOVE #intent, #intentOp",
          ConditionExpression: "rotationId = :rid AND #intentOp = :op",
          ExpressionAttributeNames: { "#intent": "intent", "#intentOp": "intentOperation" },
          ExpressionAttributeValues: { ":rid": rotationId, ":op": operator },
        }),
      );
    } catch (err) {
      // Taken over by a re-run of the command, or gone: never clear someone else's intent.
      if (!isConditionFailed(err)) throw err;
    }
  }

  async releaseOperator(secretId: string, rotationId: string, operator: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { secretId, sk: "LOCK" },
          UpdateExpression: "REMOVE #op, #opUntil",
          ConditionExpression: "rotationId = :rid AND #op = :op",
          ExpressionAttributeNames: { "#op": "operator", "#opUntil": "operatorUntil" },
          ExpressionAttributeValues: { ":rid": rotationId, ":op": operator },
        }),
      );
    } catch (err) {
      // Gone, or another command's hold now: never take someone else's hold away.
      if (!isConditionFailed(err)) throw err;
    }
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

/** `operator` is a DynamoDB reserved word; the lock's other attributes go by placeholder too. */
const LOCK_NAMES: Record<string, string> = {
  "#op": "operator",
  "#opUntil": "operatorUntil",
  "#exec": "execution",
  "#intent": "intent",
  "#intentOp": "intentOperation",
};

/** Only the placeholders an expression uses: DynamoDB rejects unused ones. */
function attributeNames(expressions: string): { ExpressionAttributeNames?: Record<string, string> } {
  const used = Object.entries(LOCK_NAMES).filter(([token]) => new RegExp(`${token}\\b`).test(expressions));
  return used.length > 0 ? { ExpressionAttributeNames: Object.fromEntries(used) } : {};
}

function describeLock(lock: LockRecord | undefined): string {
  if (!lock) return "the lock is free";
  const state = lock.stalled ? "stalled" : `running until ${lock.leaseExpiresAt}`;
  const op = lock.operator ? `, operator command ${lock.operator} until ${lock.operatorUntil}` : "";
  const intent = lock.intent
    ? `, an unfinished ${lock.intent} (${lock.intentOperation}): run \`keyshift ${lock.intent} ${lock.secretId}\` again to finish it`
    : "";
  return `held by rotation ${lock.rotationId} (execution ${lock.execution ?? lock.rotationId}), ${state}${op}${intent}`;
}
