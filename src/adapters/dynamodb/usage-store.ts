import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { ENDPOINT_CLASSES, hourIso } from "../../core/misuse/model";
import type { MisuseAck } from "../../core/misuse/report";
import {
  AUTH_FAILURE_KINDS,
  type StoredUsage,
  USAGE_RETENTION_HOURS,
  type UsageRecord,
} from "../../core/misuse/usage";
import type { MisuseAckStore, UsageStore } from "../../core/ports";
import { queryAll, strip } from "./client";

/**
 * Usage items in the consumers table (issue 20): partition = the secret, sk
 * `USAGE#<hour ISO>#<fingerprint>`, so one Query reads a secret's hours in a window in order.
 * Counters are `r:<class>` and `f:<auth failure kind>`, grown with ADD; `consumerIds` and
 * `sourceIps` are string sets; `expiresAt` (the table's TTL) nine weeks after the hour.
 *
 * Why this table and not a new one: the heartbeat already holds UpdateItem on it (no new IAM, no new
 * table to size, back up or create in the local stack), it already has a TTL attribute, and the
 * items sit in the partition the same heartbeat writes. The `USAGE#` prefix keeps them out of every
 * registry query (each reads its own prefix: `CONSUMER#`, `INSTANCE#`, `PRINCIPAL#`).
 */
export class DynamoUsageStore implements UsageStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async addUsage(record: UsageRecord): Promise<void> {
    const names: Record<string, string> = { "#h": "hour", "#fp": "fingerprint", "#exp": "expiresAt" };
    const values: Record<string, unknown> = {
      ":h": record.hour,
      ":fp": record.fingerprint,
      ":exp": record.expiresAt,
      ":c": new Set([record.consumerId]),
    };
    const set = ["#h = :h", "#fp = :fp", "#exp = :exp"];
    const add = ["consumerIds :c"];
    if (record.keyId) {
      names["#k"] = "keyId";
      values[":k"] = record.keyId;
      set.push("#k = if_not_exists(#k, :k)");
    }
    if (record.sourceIp) {
      values[":ip"] = new Set([record.sourceIp]);
      add.push("sourceIps :ip");
    }
    counters(record.requests, "r", names, values, add);
    counters(record.authFailures, "f", names, values, add);
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { secretId: record.secretId, sk: usageSk(record.hour, record.fingerprint) },
        UpdateExpression: `SET ${set.join(", ")} ADD ${add.join(", ")}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async readUsage(secretId: string, fromHour: number, toHour: number): Promise<StoredUsage[]> {
    if (toHour <= fromHour) return [];
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      // The upper bound is the bare prefix of `toHour`: every item of that hour sorts after it.
      KeyConditionExpression: "secretId = :s AND sk BETWEEN :from AND :to",
      ExpressionAttributeValues: {
        ":s": secretId,
        ":from": `USAGE#${hourIso(fromHour)}`,
        ":to": `USAGE#${hourIso(toHour)}`,
      },
    });
    return items.map((i) => storedOf(secretId, i));
  }
}

export function usageSk(hour: number, fingerprint: string): string {
  return `USAGE#${hourIso(hour)}#${fingerprint}`;
}

function counters(
  counts: Partial<Record<string, number>>,
  prefix: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
  add: string[],
): void {
  for (const [name, count] of Object.entries(counts)) {
    if (!count) continue;
    const i = add.length;
    names[`#n${i}`] = `${prefix}:${name}`;
    values[`:n${i}`] = count;
    add.push(`#n${i} :n${i}`);
  }
}

function storedOf(secretId: string, item: Record<string, unknown>): StoredUsage {
  const requests: StoredUsage["requests"] = {};
  for (const c of ENDPOINT_CLASSES) {
    const n = item[`r:${c}`];
    if (typeof n === "number" && n > 0) requests[c] = n;
  }
  const authFailures: StoredUsage["authFailures"] = {};
  for (const k of AUTH_FAILURE_KINDS) {
    const n = item[`f:${k}`];
    if (typeof n === "number" && n > 0) authFailures[k] = n;
  }
  return {
    secretId,
    hour: Number(item.hour),
    fingerprint: String(item.fingerprint),
    ...(typeof item.keyId === "string" ? { keyId: item.keyId } : {}),
    requests,
    authFailures,
    consumerIds: [...((item.consumerIds as Set<string> | undefined) ?? [])].sort(),
    sourceIps: [...((item.sourceIps as Set<string> | undefined) ?? [])].sort(),
  };
}

/**
 * Acknowledged misuse findings in the consumers table, beside the usage they judge: sk
 * `MISUSE-ACK#<findingId>`, one item per finding (a later ack replaces it). Kept past `until` for
 * the usage retention (TTL `expiresAt`): by then the finding's hour is gone from the usage too.
 */
export class DynamoMisuseAcks implements MisuseAckStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putAck(ack: MisuseAck): Promise<void> {
    const expiresAt = Math.floor(Date.parse(ack.until) / 1000) + USAGE_RETENTION_HOURS * 3600;
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...ack, sk: `MISUSE-ACK#${ack.findingId}`, expiresAt },
      }),
    );
  }

  async listAcks(secretId: string): Promise<MisuseAck[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "secretId = :s AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":s": secretId, ":p": "MISUSE-ACK#" },
      ConsistentRead: true,
    });
    return items.map((i) => strip<MisuseAck>(i, "sk", "expiresAt"));
  }
}
