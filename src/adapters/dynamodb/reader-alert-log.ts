import { createHash } from "node:crypto";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { ReaderAlertLog } from "../../core/ports";
import { isConditionFailed } from "./client";

/**
 * Past this age an unconfirmed claim is abandoned: longer than the secret-read function's timeout
 * (10 s), shorter than Lambda's first asynchronous retry (about a minute), so the retry reclaims it.
 */
export const STALE_CLAIM_SECONDS = 30;
/** Kept a day past its own day; TTL clean-up only, the day in the key is what dedupes. */
const RETENTION_SECONDS = 2 * 86_400;
/** Long principals (federated, service) are hashed to keep the sort key far under 1,024 bytes. */
const MAX_PRINCIPAL_IN_KEY = 512;

/**
 * The once-a-day record of an unregistered-reader alert, in the consumers table: the secret's own
 * partition (`secretId`), sort key `READ-ALERT#<day>#<principal>`, TTL on `expiresAt` (already on for
 * instances). No `principalArn` attribute, so the sparse `by-principal` index never sees these items,
 * and no registry query matches the prefix. PutItem only, always conditional on the claim.
 */
export class DynamoReaderAlertLog implements ReaderAlertLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async claim(secretId: string, principalArn: string, day: string, now: Date): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: this.item(secretId, principalArn, day, now, { claimedAt: now.toISOString() }),
          ConditionExpression:
            "attribute_not_exists(sk) OR (attribute_not_exists(alertedAt) AND claimedAt < :stale)",
          ExpressionAttributeValues: {
            ":stale": new Date(now.getTime() - STALE_CLAIM_SECONDS * 1000).toISOString(),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async confirm(secretId: string, principalArn: string, day: string, now: Date): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: this.item(secretId, principalArn, day, now, {
          claimedAt: now.toISOString(),
          alertedAt: now.toISOString(),
        }),
      }),
    );
  }

  private item(secretId: string, principal: string, day: string, now: Date, fields: Record<string, string>) {
    const key =
      principal.length > MAX_PRINCIPAL_IN_KEY
        ? `sha256:${createHash("sha256").update(principal).digest("hex")}`
        : principal;
    return {
      secretId,
      sk: `READ-ALERT#${day}#${key}`,
      reader: principal.slice(0, 2048),
      ...fields,
      expiresAt: Math.floor(now.getTime() / 1000) + RETENTION_SECONDS,
    };
  }
}
