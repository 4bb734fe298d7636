import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { type ExchangeAggregate, exchangeExpiresAt } from "../../core/misuse/exchange-side";
import { ENDPOINT_CLASSES, type EndpointClass, hourIso } from "../../core/misuse/model";
import type { ExchangeActivityStore, ExchangeCursor } from "../../core/ports";
import { isConditionFailed, queryAll } from "./client";

/**
 * What the exchanges saw, in the consumers table beside the consumers' usage (issue 20):
 * partition `EXCH#<account>` (the table's `secretId` key: no secret id starts with `EXCH#`, and
 * every registry query reads its own prefix), sort key `ACTIVITY#<hour ISO>#<class>#<key or *>#<ip or ->`,
 * so one Query reads an account's hours in order; `count` grown with ADD, `country` set, the TTL
 * `expiresAt` nine weeks after the hour, as the usage items. The pull cursor is the partition's
 * `CURSOR` item, every write conditional on its `version`.
 *
 * Why this table: the hourly run already queries it for the usage, its TTL attribute is there,
 * and an account's sums are read the same way a secret's usage is.
 */
export class DynamoExchangeActivityStore implements ExchangeActivityStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async addActivity(aggregates: readonly ExchangeAggregate[]): Promise<void> {
    for (const a of aggregates) {
      const values: Record<string, unknown> = {
        ":a": a.account,
        ":h": a.hour,
        ":c": a.endpointClass,
        ":n": a.count,
        ":exp": exchangeExpiresAt(a.hour),
      };
      // Every attribute by name: several (hour, count, account…) are DynamoDB reserved words.
      const names: Record<string, string> = {
        "#a": "account",
        "#h": "hour",
        "#c": "endpointClass",
        "#exp": "expiresAt",
        "#n": "count",
      };
      const set = ["#a = :a", "#h = :h", "#c = :c", "#exp = :exp"];
      const optional = { keyId: a.keyId, ip: a.ip, country: a.country };
      for (const [name, value] of Object.entries(optional)) {
        if (value === undefined) continue;
        names[`#${name}`] = name;
        values[`:${name}`] = value;
        set.push(`#${name} = :${name}`);
      }
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { secretId: partition(a.account), sk: activitySk(a) },
          UpdateExpression: `SET ${set.join(", ")} ADD #n :n`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    }
  }

  async readActivity(account: string, fromHour: number, toHour: number): Promise<ExchangeAggregate[]> {
    if (toHour <= fromHour) return [];
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      // The upper bound is the bare prefix of `toHour`: every item of that hour sorts after it.
      KeyConditionExpression: "secretId = :p AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: {
        ":p": partition(account),
        ":from": `ACTIVITY#${hourIso(fromHour)}`,
        ":to": `ACTIVITY#${hourIso(toHour)}`,
      },
    });
    return items.flatMap((i) => aggregateOf(account, i));
  }

  async getCursor(account: string): Promise<ExchangeCursor> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: cursorKey(account), ConsistentRead: true }),
    );
    if (!Item) return { version: 0 };
    return {
      version: Number(Item.version ?? 0),
      ...(typeof Item.cursor === "string" ? { cursor: Item.cursor } : {}),
      ...(typeof Item.claimedUntilMs === "number" ? { claimedUntilMs: Item.claimedUntilMs } : {}),
    };
  }

  async claimCursor(account: string, version: number, untilMs: number, nowMs: number): Promise<boolean> {
    return this.conditional({
      TableName: this.table,
      Key: cursorKey(account),
      UpdateExpression: "SET #u = :until",
      ConditionExpression: `${atVersion(version)} AND (attribute_not_exists(#u) OR #u < :now)`,
      ExpressionAttributeNames: { "#u": "claimedUntilMs", "#v": "version" },
      ExpressionAttributeValues: {
        ":until": untilMs,
        ":now": nowMs,
        ...(version > 0 ? { ":v": version } : {}),
      },
    });
  }

  async advanceCursor(account: string, cursor: string, version: number): Promise<boolean> {
    return this.conditional({
      TableName: this.table,
      Key: cursorKey(account),
      UpdateExpression: "SET #c = :c, #v = :next REMOVE #u",
      ConditionExpression: atVersion(version),
      ExpressionAttributeNames: { "#c": "cursor", "#v": "version", "#u": "claimedUntilMs" },
      ExpressionAttributeValues: {
        ":c": cursor,
        ":next": version + 1,
        ...(version > 0 ? { ":v": version } : {}),
      },
    });
  }

  async getPullStart(): Promise<string | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: PULL_START, ConsistentRead: true }),
    );
    return typeof Item?.account === "string" ? Item.account : undefined;
  }

  async setPullStart(account: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: PULL_START,
        UpdateExpression: "SET #a = :a",
        ExpressionAttributeNames: { "#a": "account" },
        ExpressionAttributeValues: { ":a": account },
      }),
    );
  }

  private async conditional(input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand(input));
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }
}

const partition = (account: string) => `EXCH#${account}`;
const cursorKey = (account: string) => ({ secretId: partition(account), sk: "CURSOR" });
/** The fleet's pull pointer: partition `EXCH#` (no account is empty), beside no account's items. */
const PULL_START = { secretId: "EXCH#", sk: "PULL-START" };
/** Version 0 is "no cursor advanced yet": the item may exist (a claim) without a version. */
const atVersion = (version: number) => (version > 0 ? "#v = :v" : "attribute_not_exists(#v)");

export function activitySk(a: Pick<ExchangeAggregate, "hour" | "endpointClass" | "keyId" | "ip">): string {
  return `ACTIVITY#${hourIso(a.hour)}#${a.endpointClass}#${a.keyId ?? "*"}#${a.ip ?? "-"}`;
}

function aggregateOf(account: string, item: Record<string, unknown>): ExchangeAggregate[] {
  const endpointClass = item.endpointClass as EndpointClass;
  if (!ENDPOINT_CLASSES.includes(endpointClass)) return [];
  return [
    {
      account,
      hour: Number(item.hour),
      endpointClass,
      ...(typeof item.keyId === "string" ? { keyId: item.keyId } : {}),
      ...(typeof item.ip === "string" ? { ip: item.ip } : {}),
      ...(typeof item.country === "string" ? { country: item.country } : {}),
      count: Number(item.count ?? 0),
    },
  ];
}
