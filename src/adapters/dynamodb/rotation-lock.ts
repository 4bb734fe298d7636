import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { RotationInProgressError } from "../../core/errors";
import type { LockRecord, OperatorIntent } from "../../core/model";
import type { RotationLock } from "../../core/ports";
import { describeLock, NEVER, refusals } from "../../core/rotation/lock-refusals";
import { isConditionFailed, strip } from "./client";

/**
 * The per-secret lock (I4), the `LOCK` item of the secret's partition in the rotations table. Every
 * write is conditional; a refused one throws `RotationInProgressError` naming the holder and changes
 * nothing. `DynamoRotationStore` extends it: one object is both ports, as the composition root wires it.
 */
export class DynamoRotationLock implements RotationLock {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly table: string,
  ) {}

  protected async getItem<T>(secretId: string, sk: string): Promise<T | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { secretId, sk }, ConsistentRead: true }),
    );
    return out.Item ? strip<T>(out.Item, "sk") : undefined;
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
      throw new RotationInProgressError(refusals.taken(secretId, rotationId, await this.get(secretId)), {
        cause: err,
      });
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
      refusals.renew(secretId, rotationId, execution),
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
      refusals.stall(secretId, rotationId, expired),
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
      refusals.hold(secretId, rotationId, operator),
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
      refusals.intent(secretId, rotationId, operator),
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
