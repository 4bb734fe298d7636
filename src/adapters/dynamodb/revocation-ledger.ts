import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { InvalidInputError, OperatorActionRejectedError } from "../../core/errors";
import { type BreakGlass, type LedgerEntry, type LedgerStatus, restoringRefusal } from "../../core/model";
import type { RevocationLedger } from "../../core/ports";
import { isConditionFailed, queryAll, strip } from "./client";

/** `sweep` is present only while an entry still needs work: the by-sweep index is sparse. */
const DUE = "due";

/** Names the expressions may use; only those an expression mentions are sent (DynamoDB refuses unused ones). */
const NAMES: Record<string, string> = {
  "#s": "status",
  "#claim": "claim",
  "#owner": "owner",
  "#until": "until",
  "#bgat": "at",
};

/** No revocation attempt's claim is live at `:now`. */
const CLAIM_FREE = "(attribute_not_exists(#claim) OR #claim.#until <= :now)";

/**
 * The revocation ledger. Every transition is a conditional write that only moves forward (see
 * `LedgerStatus`), and a revocation attempt's transitions are conditional on its claim (mutual
 * exclusion with a restore without transactions: each side's first write is conditional on the
 * other's absence). `revoked` is final.
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
    return this.conditionalUpdate(entryId, "SET #claim = :claim", condition, values);
  }

  async releaseClaim(entryId: string, owner: string): Promise<LedgerEntry> {
    return this.conditionalUpdate(entryId, "REMOVE #claim", "#claim.#owner = :owner", { ":owner": owner });
  }

  async markRevoked(entryId: string, at: Date, owner?: string): Promise<LedgerEntry> {
    const values: Record<string, unknown> = {
      ":revoked": "revoked",
      ":pending": "pending",
      ":failed": "failed",
      ":disabled": "disabled",
      ":restored": "restored",
      ":at": at.toISOString(),
      ":one": 1,
      ":zero": 0,
      ":false": false,
    };
    return this.conditionalUpdate(
      entryId,
      "SET #s = :revoked, revokedAt = :at, updatedAt = :at, attempts = if_not_exists(attempts, :zero) + :one, needsOperator = :false " +
        "REMOVE sweep, sweepAt, nextAttemptAt, heldReason, #claim",
      `#s IN (:pending, :failed, :disabled, :restored) AND ${claimClause(owner, at, values)}`,
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
        "attempts = if_not_exists(attempts, :zero) + :one, attemptsAtDisable = if_not_exists(attempts, :zero) + :one",
      update.removeAfter,
      values,
      ["heldReason", "lastError", "restored", "#claim"],
    );
    return this.conditionalUpdate(
      entryId,
      expression,
      `#s IN (:pending, :failed, :restored) AND ${claimClause(update.owner, update.at, values)}`,
      values,
    );
  }

  async beginRestore(
    entryId: string,
    intent: { owner: string; actor: string; reason: string; at: Date },
  ): Promise<LedgerEntry> {
    const at = intent.at.toISOString();
    return this.conditionalUpdate(
      entryId,
      "SET #s = :restoring, restoring = :intent, updatedAt = :at REMOVE #claim, sweep, sweepAt",
      `(#s = :disabled AND ${CLAIM_FREE}) OR #s = :restoring`,
      {
        ":restoring": "restoring",
        ":disabled": "disabled",
        ":intent": { owner: intent.owner, actor: intent.actor, reason: intent.reason, at },
        ":at": at,
        ":now": at,
      },
    );
  }

  async markRestored(entryId: string, update: { owner: string; at: Date }): Promise<LedgerEntry> {
    const entry = await this.mustGet(entryId);
    const intent = entry.restoring;
    if (entry.status !== "restoring" || intent?.owner !== update.owner) return entry;
    const at = update.at.toISOString();
    const values: Record<string, unknown> = {
      ":restoring": "restoring",
      ":restored": "restored",
      ":owner": update.owner,
      ":r": { actor: intent.actor, reason: intent.reason, at },
      ":at": at,
      ":true": true,
    };
    let set = "SET #s = :restored, restored = :r, updatedAt = :at, needsOperator = :true";
    const remove = ["restoring", "nextAttemptAt", "sweep", "sweepAt"];
    let unchanged = "attribute_not_exists(breakGlass)";
    // The break-glass authorised the disable a restore undid: it moves to history (I1 again).
    // `recordBreakGlass` is refused while restoring, so the one read here is the one moved.
    if (entry.breakGlass) {
      values[":bgl"] = [entry.breakGlass];
      values[":empty"] = [];
      values[":bgAt"] = entry.breakGlass.at;
      set += ", breakGlassHistory = list_append(if_not_exists(breakGlassHistory, :empty), :bgl)";
      remove.push("breakGlass");
      unchanged = "breakGlass.#bgat = :bgAt";
    }
    return this.conditionalUpdate(
      entryId,
      `${set} REMOVE ${remove.join(", ")}`,
      `#s = :restoring AND restoring.#owner = :owner AND ${unchanged}`,
      values,
    );
  }

  async withdrawRestore(entryId: string, update: { owner: string; at: Date }): Promise<LedgerEntry> {
    const entry = await this.mustGet(entryId);
    if (entry.status !== "restoring" || entry.restoring?.owner !== update.owner) return entry;
    const values: Record<string, unknown> = {
      ":restoring": "restoring",
      ":disabled": "disabled",
      ":owner": update.owner,
      ":at": update.at.toISOString(),
    };
    // Back on the sweep at the removal time the disable scheduled (absent: it waits for an operator).
    let set = "SET #s = :disabled, updatedAt = :at";
    if (entry.nextAttemptAt) {
      values[":next"] = entry.nextAttemptAt;
      values[":due"] = DUE;
      set += ", sweep = :due, sweepAt = :next";
    }
    return this.conditionalUpdate(
      entryId,
      `${set} REMOVE restoring`,
      "#s = :restoring AND restoring.#owner = :owner",
      values,
    );
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
      ["heldReason", "#claim"],
    );
    const status = removing ? "#s = :disabled" : "#s IN (:pending, :failed, :restored)";
    return this.conditionalUpdate(
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
    return this.conditionalUpdate(
      entryId,
      expression,
      `#s <> :revoked AND #s <> :restoring AND ${claimClause(update.owner, update.at, values)}`,
      values,
    );
  }

  async recordBreakGlass(entryId: string, breakGlass: BreakGlass): Promise<LedgerEntry> {
    // Not while restoring: the restore moves the break-glass it read to history when it finishes.
    return this.conditionalUpdate(
      entryId,
      "SET breakGlass = if_not_exists(breakGlass, :bg), updatedAt = :at",
      "#s <> :revoked AND #s <> :restoring",
      { ":revoked": "revoked", ":restoring": "restoring", ":bg": breakGlass, ":at": breakGlass.at },
    );
  }

  /** An update under `condition` (and the entry existing); refused → the entry as it stands. */
  private async conditionalUpdate(
    entryId: string,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<LedgerEntry> {
    const text = `${expression} ${condition}`;
    const used = (token: string) => new RegExp(`${token}(?![A-Za-z0-9_])`).test(text);
    const names = Object.fromEntries(Object.entries(NAMES).filter(([k]) => used(k)));
    const sent = Object.fromEntries(Object.entries(values).filter(([k]) => used(k)));
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { entryId },
          UpdateExpression: expression,
          ConditionExpression: `attribute_exists(entryId) AND (${condition})`,
          ExpressionAttributeNames: names,
          ...(Object.keys(sent).length > 0 ? { ExpressionAttributeValues: sent } : {}),
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

/** A transition by `owner` needs its claim; one without an owner needs no live claim at `at`. */
function claimClause(owner: string | undefined, at: Date, values: Record<string, unknown>): string {
  if (owner) {
    values[":owner"] = owner;
    return "#claim.#owner = :owner";
  }
  values[":now"] = at.toISOString();
  return CLAIM_FREE;
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
