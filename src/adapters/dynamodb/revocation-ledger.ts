import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { InvalidInputError, OperatorActionRejectedError } from "../../core/errors";
import type { BreakGlass, LedgerEntry } from "../../core/model";
import type { RevocationLedger } from "../../core/ports";
import { isConditionFailed, queryAll, strip } from "./client";

/** `sweep` is present only while an entry still needs work: the by-sweep index is sparse. */
const DUE = "due";

/**
 * The revocation ledger. Every transition is a conditional write that only moves forward (see
 * `LedgerStatus`): pending|failed|restored → failed | disabled | revoked, disabled → disabled |
 * revoked | restored (the operator's undo); `revoked` is final.
 */
export class DynamoRevocationLedger implements RevocationLedger {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(entryId: string): Promise<LedgerEntry | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { entryId }, ConsistentRead: true }),
    );
    return out.Item ? strip<LedgerEntry>(out.Item, "sweep", "sweepAt") : undefined;
  }

  private async mustGet(entryId: string): Promise<LedgerEntry> {
    const entry = await this.get(entryId);
    if (!entry) throw new Error(`ledger entry ${entryId} vanished`);
    return entry;
  }

  async openPending(entry: LedgerEntry): Promise<LedgerEntry> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...entry, status: "pending", sweep: DUE, sweepAt: entry.nextAttemptAt },
          ConditionExpression: "attribute_not_exists(entryId)",
        }),
      );
      return { ...entry, status: "pending" };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return this.mustGet(entry.entryId);
    }
  }

  async markRevoked(entryId: string, at: Date): Promise<LedgerEntry> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { entryId },
          UpdateExpression:
            "SET #s = :revoked, revokedAt = :at, updatedAt = :at, attempts = if_not_exists(attempts, :zero) + :one, needsOperator = :false " +
            "REMOVE sweep, sweepAt, nextAttemptAt, heldReason",
          ConditionExpression: "#s IN (:pending, :failed, :disabled, :restored)",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: {
            ":revoked": "revoked",
            ":pending": "pending",
            ":failed": "failed",
            ":disabled": "disabled",
            ":restored": "restored",
            ":at": at.toISOString(),
            ":one": 1,
            ":zero": 0,
            ":false": false,
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return strip<LedgerEntry>(out.Attributes ?? {}, "sweep", "sweepAt");
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return this.mustGet(entryId);
    }
  }

  async markDisabled(entryId: string, update: { at: Date; removeAfter: Date }): Promise<LedgerEntry> {
    const values: Record<string, unknown> = {
      ":disabled": "disabled",
      ":pending": "pending",
      ":failed": "failed",
      ":restored": "restored",
      ":at": update.at.toISOString(),
      ":one": 1,
      ":zero": 0,
      ":false": false,
    };
    const expression = withSchedule(
      "SET #s = :disabled, disabledAt = :at, updatedAt = :at, needsOperator = :false, " +
        "attempts = if_not_exists(attempts, :zero) + :one, attemptsAtDisable = if_not_exists(attempts, :zero) + :one",
      update.removeAfter,
      values,
      ["heldReason", "lastError", "restored"],
    );
    return this.conditionalUpdate(entryId, expression, "#s IN (:pending, :failed, :restored)", values);
  }

  async markRestored(
    entryId: string,
    restored: { actor: string; reason: string; at: Date },
  ): Promise<LedgerEntry> {
    const at = restored.at.toISOString();
    const values: Record<string, unknown> = {
      ":restored": "restored",
      ":disabled": "disabled",
      ":r": { actor: restored.actor, reason: restored.reason, at },
      ":at": at,
      ":true": true,
    };
    // Off the sweep: a restored key is revoked again only when an operator requeues it.
    const expression = withSchedule(
      "SET #s = :restored, restored = :r, updatedAt = :at, needsOperator = :true",
      undefined,
      values,
      [],
    );
    return this.conditionalUpdate(entryId, expression, "#s = :disabled", values);
  }

  async markFailed(
    entryId: string,
    update: {
      at: Date;
      error: string;
      nextAttemptAt: Date | undefined;
      needsOperator: boolean;
      stage?: "revoke" | "remove";
    },
  ): Promise<LedgerEntry> {
    const removing = update.stage === "remove";
    const values: Record<string, unknown> = {
      ":at": update.at.toISOString(),
      ":err": update.error,
      ":one": 1,
      ":zero": 0,
      ":op": update.needsOperator,
      ...(removing
        ? { ":disabled": "disabled" }
        : { ":failed": "failed", ":pending": "pending", ":restored": "restored" }),
    };
    // A real attempt was made: whatever held it back before no longer applies. A failed removal
    // leaves the key disabled, and the status says so.
    const expression = withSchedule(
      `SET ${removing ? "" : "#s = :failed, "}updatedAt = :at, lastError = :err, attempts = if_not_exists(attempts, :zero) + :one, needsOperator = :op`,
      update.nextAttemptAt,
      values,
      ["heldReason"],
    );
    return this.conditionalUpdate(
      entryId,
      expression,
      removing ? "#s = :disabled" : "#s IN (:pending, :failed, :restored)",
      values,
    );
  }

  async hold(
    entryId: string,
    update: { at: Date; reason: string; nextAttemptAt: Date | undefined; needsOperator: boolean },
  ): Promise<LedgerEntry> {
    const values: Record<string, unknown> = {
      ":revoked": "revoked",
      ":at": update.at.toISOString(),
      ":why": update.reason,
      ":op": update.needsOperator,
    };
    const expression = withSchedule(
      "SET updatedAt = :at, heldReason = :why, needsOperator = :op",
      update.nextAttemptAt,
      values,
      [],
    );
    return this.updateUnlessRevoked(entryId, expression, values);
  }

  async recordBreakGlass(entryId: string, breakGlass: BreakGlass): Promise<LedgerEntry> {
    return this.updateUnlessRevoked(
      entryId,
      "SET breakGlass = if_not_exists(breakGlass, :bg), updatedAt = :at",
      {
        ":revoked": "revoked",
        ":bg": breakGlass,
        ":at": breakGlass.at,
      },
    );
  }

  private async updateUnlessRevoked(
    entryId: string,
    expression: string,
    values: Record<string, unknown>,
  ): Promise<LedgerEntry> {
    return this.conditionalUpdate(entryId, expression, "#s <> :revoked", values);
  }

  /** An update under `condition` (and the entry existing); refused → the entry as it stands. */
  private async conditionalUpdate(
    entryId: string,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<LedgerEntry> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { entryId },
          UpdateExpression: expression,
          ConditionExpression: `attribute_exists(entryId) AND ${condition}`,
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_NEW",
        }),
      );
      return strip<LedgerEntry>(out.Attributes ?? {}, "sweep", "sweepAt");
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return this.mustGet(entryId);
    }
  }

  async requeue(entryId: string, at: Date): Promise<LedgerEntry> {
    try {
      return await this.requeueUnlessRevoked(entryId, at);
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      // Gone or revoked since the caller read it: say which, never "The conditional request failed".
      const now = await this.get(entryId);
      if (!now) throw new InvalidInputError(`no ledger entry ${entryId}: see \`keyshift revocations list\``);
      throw new OperatorActionRejectedError(
        `ledger entry ${entryId} is already ${now.status}: nothing to retry`,
      );
    }
  }

  private async requeueUnlessRevoked(entryId: string, at: Date): Promise<LedgerEntry> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { entryId },
        UpdateExpression:
          "SET needsOperator = :false, nextAttemptAt = :at, sweep = :due, sweepAt = :at, updatedAt = :at",
        ConditionExpression: "attribute_exists(entryId) AND #s <> :revoked",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: {
          ":false": false,
          ":at": at.toISOString(),
          ":due": DUE,
          ":revoked": "revoked",
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return strip<LedgerEntry>(out.Attributes ?? {}, "sweep", "sweepAt");
  }

  async listDue(now: Date, limit: number): Promise<LedgerEntry[]> {
    const items = await queryAll<Record<string, unknown>>(
      this.db,
      {
        TableName: this.table,
        IndexName: "by-sweep",
        KeyConditionExpression: "sweep = :due AND sweepAt <= :now",
        ExpressionAttributeValues: { ":due": DUE, ":now": now.toISOString() },
      },
      limit,
    );
    return items.map((i) => strip<LedgerEntry>(i, "sweep", "sweepAt"));
  }

  async listAll(): Promise<LedgerEntry[]> {
    const items: LedgerEntry[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey }));
      items.push(...(page.Items ?? []).map((i) => strip<LedgerEntry>(i, "sweep", "sweepAt")));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }
}

/**
 * Appends the sweep schedule to an update: due at `next` (on the sparse index), or off the index
 * when there is no next attempt (revoked, or waiting for an operator). `remove` names attributes
 * the update also drops.
 */
function withSchedule(
  set: string,
  nextAttemptAt: Date | undefined,
  values: Record<string, unknown>,
  remove: string[],
): string {
  if (!nextAttemptAt) return `${set} REMOVE ${["nextAttemptAt", "sweep", "sweepAt", ...remove].join(", ")}`;
  values[":next"] = nextAttemptAt.toISOString();
  values[":due"] = DUE;
  const schedule = `${set}, nextAttemptAt = :next, sweep = :due, sweepAt = :next`;
  return remove.length > 0 ? `${schedule} REMOVE ${remove.join(", ")}` : schedule;
}
