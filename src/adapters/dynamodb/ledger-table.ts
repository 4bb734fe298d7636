import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { LedgerEntry } from "../../core/model";
import { queryAll, strip } from "./client";
import { mentioned, updateOrReread } from "./conditional-update";

/** `sweep` is present only while an entry still needs work: the by-sweep index is sparse. */
export const DUE = "due";

/** Names the expressions may use; only those an expression mentions are sent (DynamoDB refuses unused ones). */
export const NAMES: Record<string, string> = {
  "#s": "status",
  "#claim": "claim",
  "#owner": "owner",
  "#until": "until",
  "#bgat": "at",
};

/** No revocation attempt's claim is live at `:now`. */
export const CLAIM_FREE = "(attribute_not_exists(#claim) OR #claim.#until <= :now)";

/**
 * The ledger table's item access shared by the transitions: a consistent read, and one conditional
 * UpdateItem (./conditional-update.ts) that answers the entry as it stands either way.
 */
export class LedgerTable {
  constructor(
    readonly db: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  async get(entryId: string): Promise<LedgerEntry | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.name, Key: { entryId }, ConsistentRead: true }),
    );
    return out.Item ? strip<LedgerEntry>(out.Item, "sweep", "sweepAt") : undefined;
  }

  /** Every entry a Query of one index matches (to the end, or `limit`), in the index's order. */
  async query(
    index: string,
    keyCondition: string,
    values: Record<string, unknown>,
    limit?: number,
  ): Promise<LedgerEntry[]> {
    const names = mentioned(keyCondition, NAMES);
    const items = await queryAll<Record<string, unknown>>(
      this.db,
      {
        TableName: this.name,
        IndexName: index,
        KeyConditionExpression: keyCondition,
        ExpressionAttributeValues: values,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      },
      limit,
    );
    return items.map((i) => strip<LedgerEntry>(i, "sweep", "sweepAt"));
  }

  async mustGet(entryId: string): Promise<LedgerEntry> {
    const entry = await this.get(entryId);
    if (!entry) throw new Error(`ledger entry ${entryId} vanished`);
    return entry;
  }

  /** An update under `condition` (and the entry existing); refused → the entry as it stands. */
  async update(
    entryId: string,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<LedgerEntry> {
    return updateOrReread(this.db, {
      table: this.name,
      key: { entryId },
      existing: "entryId",
      expression,
      condition,
      names: NAMES,
      values,
      fromItem: (item) => strip<LedgerEntry>(item, "sweep", "sweepAt"),
      reread: () => this.mustGet(entryId),
    });
  }
}

/** A transition by `owner` needs its claim; one without an owner needs no live claim at `at`. */
export function claimClause(owner: string | undefined, at: Date, values: Record<string, unknown>): string {
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
export function withSchedule(
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
