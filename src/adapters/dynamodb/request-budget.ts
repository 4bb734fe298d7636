import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { BudgetAnswer, BudgetRule, RequestBudget } from "../../core/ports";
import { windowOf } from "../../core/request-budget";
import { isConditionFailed } from "./client";

/**
 * The request budget in the rotations table: one item per bucket (`secretId` = `_budget#<bucket>`,
 * sk `BUDGET`) holding the current window and how many requests it granted. A take is one
 * conditional `UpdateItem` (two when the window changes), never a read first: of callers racing in
 * one window, DynamoDB grants exactly `limit`. No enrolled secret id starts with `_`.
 */
export class DynamoRequestBudget implements RequestBudget {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async take(bucket: string, rule: BudgetRule, now: Date): Promise<BudgetAnswer> {
    const { window, nextAtMs } = windowOf(now.getTime(), rule);
    const Key = { secretId: `_budget#${bucket}`, sk: "BUDGET" };
    const names = { "#w": "window", "#n": "granted" };
    try {
      // The common case: this window is open and has room.
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key,
          UpdateExpression: "SET #n = #n + :one",
          ConditionExpression: "#w = :w AND #n < :limit",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ":one": 1, ":w": window, ":limit": rule.limit },
        }),
      );
      return { granted: true };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    try {
      // The first request of a new window opens it (a caller whose clock runs behind cannot
      // reopen a window already past).
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key,
          UpdateExpression: "SET #w = :w, #n = :one",
          ConditionExpression: "attribute_not_exists(#w) OR #w < :w",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ":one": 1, ":w": window },
        }),
      );
      return { granted: true };
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      return { granted: false, retryInMs: Math.max(1, nextAtMs - now.getTime()) };
    }
  }
}
