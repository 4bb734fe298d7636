import { type DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { InvalidInputError, OperatorActionRejectedError } from "../../core/errors";
import { type BreakGlass, type LedgerEntry, type LedgerStatus, restoringRefusal } from "../../core/model";
import type { FailedAttempt, RevocationLedger } from "../../core/ports";
import { isConditionFailed, strip } from "./client";
import { beginRestore, markRestored, withdrawRestore } from "./ledger-restore";
import { CLAIM_FREE, claimClause, DUE, LedgerTable, withSchedule } from "./ledger-table";

/**
 * The revocation ledger. Every transition is a conditional write that only moves forward (see
 * `LedgerStatus`), and a revocation attempt's transitions are conditional on its claim (mutual
 * exclusion with a restore without transactions: each side's first write is conditional on the
 * other's absence). `revoked` is final.
 */
export class DynamoRevocationLedger implements RevocationLedger {
  private readonly rows: LedgerTable;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {
    this.rows = new LedgerTable(db, table);
  }

  get(entryId: string): Promise<LedgerEntry | undefined> {
    return this.rows.get(entryId);
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
      return this.rows.mustGet(entry.entryId);
    }
  }

  async claim(
    entryId: string,
    expect: { status: LedgerStatus; attempts: number; dueBy?: Date },
    claim: { owner: string; at: Date; until: Date },
  ): Promise<LedgerEntry> {
    const values: Record<string, unknown> = {
      ":expect": expect.status,
      ":attempts": expect.attempts,
      ":now": claim.at.toISOString(),
      ":claim": { owner: claim.owner, until: claim.until.toISOString() },
    };
    let condition = `#s = :expect AND attempts = :attempts AND ${CLAIM_FREE}`;
    if (expect.dueBy) {
      values[":dueBy"] = expect.dueBy.toISOString();
      values[":false"] = false;
      condition +=
        " AND nextAttemptAt <= :dueBy AND (attribute_not_exists(needsOperator) OR needsOperator = :false)";
    }
    return this.rows.update(entryId, "SET #claim = :claim", condition, values);
  }

  async releaseClaim(entryId: string, owner: string): Promise<LedgerEntry> {
    return this.rows.update(entryId, "REMOVE #claim", "#claim.#owner = :owner", { ":owner": owner });
  }

  async markRevoked(entryId: string, at: Date, owner?: string): Promise<LedgerEntry> {
    const values: Record<string, unknown> = {
      ":revoked": "revoked",
      ":pending": "pending",
      ":failed": "failed",
      ":disabled": "disabled",
      ":restored": "restored",
      ":awaiting": "awaiting-operator",
      ":at": at.toISOString(),
      ":one": 1,
      ":zero": 0,
      ":false": false,
    };
    return this.rows.update(
      entryId,
      "SET #s = :revoked, revokedAt = :at, updatedAt = :at, reRetiredAt = if_not_exists(reRetiredAt, :at), attempts = if_not_exists(attempts, :zero) + :one, needsOperator = :false " +
        "REMOVE sweep, sweepAt, nextAttemptAt, heldReason, #claim",
      `#s IN (:pending, :failed, :disabled, :restored, :awaiting) AND ${claimClause(owner, at, values)}`,
      values,
    );
  }

  async markAwaitingOperator(entryId: string, update: { at: Date; owner?: string }): Promise<LedgerEntry> {
    const values: Record<string, unknown> = {
      ":awaiting": "awaiting-operator",
      ":pending": "pending",
      ":failed": "failed",
      ":restored": "restored",
      ":at": update.at.toISOString(),
      ":one": 1,
      ":zero": 0,
      ":true": true,
    };
    return this.rows.update(
      entryId,
      "SET #s = :awaiting, awaitingSince = :at, updatedAt = :at, needsOperator = :true, " +
        "reRetiredAt = if_not_exists(reRetiredAt, :at), " +
        "attempts = if_not_exists(attempts, :zero) + :one " +
        "REMOVE sweep, sweepAt, nextAttemptAt, heldReason, #claim",
      `#s IN (:pending, :failed, :restored) AND ${claimClause(update.owner, update.at, values)}`,
      values,
    );
  }

  async markDisabled(
    entryId: string,
    update: { at: Date; removeAfter: Date; owner?: string },
  ): Promise<LedgerEntry> {
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
        "reRetiredAt = if_not_exists(reRetiredAt, :at), " +
        "attempts = if_not_exists(attempts, :zero) + :one, attemptsAtDisable = if_not_exists(attempts, :zero) + :one",
      update.removeAfter,
      values,
      ["heldReason", "lastError", "restored", "#claim"],
    );
    return this.rows.update(
      entryId,
      expression,
      `#s IN (:pending, :failed, :restored) AND ${claimClause(update.owner, update.at, values)}`,
      values,
    );
  }

  beginRestore(entryId: string, intent: { owner: string; actor: string; reason: string; at: Date }) {
    return beginRestore(this.rows, entryId, intent);
  }

  markRestored(entryId: string, update: { owner: string; at: Date }) {
    return markRestored(this.rows, entryId, update);
  }

  withdrawRestore(entryId: string, update: { owner: string; at: Date }) {
    return withdrawRestore(this.rows, entryId, update);
  }

  async markFailed(entryId: string, update: FailedAttempt): Promise<LedgerEntry> {
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
      `SET ${removing ? "" : "#s = :failed, "}updatedAt = :at, reRetiredAt = if_not_exists(reRetiredAt, :at), lastError = :err, attempts = if_not_exists(attempts, :zero) + :one, needsOperator = :op`,
      update.nextAttemptAt,
      values,
      ["heldReason", "#claim"],
    );
    const status = removing ? "#s = :disabled" : "#s IN (:pending, :failed, :restored)";
    return this.rows.update(
      entryId,
      expression,
      `${status} AND ${claimClause(update.owner, update.at, values)}`,
      values,
    );
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
    const values: Record<string, unknown> = {
      ":revoked": "revoked",
      ":restoring": "restoring",
      ":at": update.at.toISOString(),
      ":why": update.reason,
      ":op": update.needsOperator,
    };
    const expression = withSchedule(
      "SET updatedAt = :at, heldReason = :why, needsOperator = :op",
      update.nextAttemptAt,
      values,
      ["#claim"],
    );
    return this.rows.update(
      entryId,
      expression,
      `#s <> :revoked AND #s <> :restoring AND ${claimClause(update.owner, update.at, values)}`,
      values,
    );
  }

  async recordBreakGlass(entryId: string, breakGlass: BreakGlass): Promise<LedgerEntry> {
    // Not while restoring: the restore moves the break-glass it read to history when it finishes.
    return this.rows.update(
      entryId,
      "SET breakGlass = if_not_exists(breakGlass, :bg), updatedAt = :at",
      "#s <> :revoked AND #s <> :restoring",
      { ":revoked": "revoked", ":restoring": "restoring", ":bg": breakGlass, ":at": breakGlass.at },
    );
  }

  async requeue(entryId: string, at: Date): Promise<LedgerEntry> {
    try {
      return await this.requeueUnlessRevoked(entryId, at);
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      // Gone or revoked since the caller read it: say which, never "The conditional request failed".
      const now = await this.get(entryId);
      if (!now) throw new InvalidInputError(`no ledger entry ${entryId}: see \`keyshift revocations list\``);
      if (now.status === "restoring") throw new OperatorActionRejectedError(restoringRefusal(entryId));
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
        ConditionExpression: "attribute_exists(entryId) AND #s <> :revoked AND #s <> :restoring",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: {
          ":false": false,
          ":at": at.toISOString(),
          ":due": DUE,
          ":revoked": "revoked",
          ":restoring": "restoring",
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return strip<LedgerEntry>(out.Attributes ?? {}, "sweep", "sweepAt");
  }

  listDue(now: Date, limit: number): Promise<LedgerEntry[]> {
    const values = { ":due": DUE, ":now": now.toISOString() };
    return this.rows.query("by-sweep", "sweep = :due AND sweepAt <= :now", values, limit);
  }

  async listBySecret(secretId: string): Promise<LedgerEntry[]> {
    const entries = await this.rows.query("by-secret", "secretId = :s", { ":s": secretId });
    return entries.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  listByStatus(status: LedgerStatus): Promise<LedgerEntry[]> {
    return this.rows.query("by-status", "#s = :s", { ":s": status });
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
