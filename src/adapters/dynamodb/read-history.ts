import { createHash } from "node:crypto";
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { ReadHistory } from "../../core/ports";

/** Long principals (federated, service) are hashed to keep the partition key far under 2,048 bytes. */
const MAX_PRINCIPAL_IN_KEY = 512;

/**
 * The read history in the consumers table: one item per (principal, secret), in the principal's own
 * partition `READS#<principal>` (a `#` no secret name can hold), sort key `SECRET#<secretId>`, with
 * `lastReadAt` and `newAt` (when the read was the first after the quiet period). Kept for good, no
 * TTL: a departure's exposure is every secret the principal *ever* read (one small item per pair).
 * No `principalArn` attribute, so the sparse `by-principal` index never sees these items. A late
 * CloudTrail event may set `lastReadAt` a little back: harmless against a 30-day period.
 */
export class DynamoReadHistory implements ReadHistory {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async recordRead(
    principal: string,
    secretId: string,
    at: Date,
  ): Promise<{ previousAt: string | undefined }> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.key(principal, secretId),
        UpdateExpression: "SET lastReadAt = :at, reader = :reader",
        ExpressionAttributeValues: { ":at": at.toISOString(), ":reader": principal.slice(0, 2048) },
        ReturnValues: "UPDATED_OLD",
      }),
    );
    const previous = out.Attributes?.lastReadAt;
    return { previousAt: typeof previous === "string" ? previous : undefined };
  }

  async markNew(principal: string, secretId: string, at: Date): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.key(principal, secretId),
        UpdateExpression: "SET newAt = :at",
        ExpressionAttributeValues: { ":at": at.toISOString() },
      }),
    );
  }

  async newSince(principal: string, since: Date): Promise<string[]> {
    const items = await this.query(principal, {
      FilterExpression: "newAt >= :since",
      ExpressionAttributeValues: { ":since": since.toISOString() },
    });
    return items.map((item) => item.secretId).sort();
  }

  async readsBy(principal: string): Promise<Array<{ secretId: string; lastReadAt: string }>> {
    const items = await this.query(principal, {});
    return items.sort((a, b) => a.secretId.localeCompare(b.secretId));
  }

  /** Every item of the principal's partition (the filter applied), paged. */
  private async query(
    principal: string,
    filter: { FilterExpression?: string; ExpressionAttributeValues?: Record<string, string> },
  ): Promise<Array<{ secretId: string; lastReadAt: string }>> {
    const found: Array<{ secretId: string; lastReadAt: string }> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "secretId = :pk AND begins_with(sk, :prefix)",
          ...(filter.FilterExpression ? { FilterExpression: filter.FilterExpression } : {}),
          ExpressionAttributeValues: {
            ":pk": this.partition(principal),
            ":prefix": "SECRET#",
            ...filter.ExpressionAttributeValues,
          },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        found.push({
          secretId: String(item.sk).slice("SECRET#".length),
          lastReadAt: String(item.lastReadAt),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  private partition(principal: string): string {
    const key =
      principal.length > MAX_PRINCIPAL_IN_KEY
        ? `sha256:${createHash("sha256").update(principal).digest("hex")}`
        : principal;
    return `READS#${key}`;
  }

  private key(principal: string, secretId: string) {
    return { secretId: this.partition(principal), sk: `SECRET#${secretId}` };
  }
}
