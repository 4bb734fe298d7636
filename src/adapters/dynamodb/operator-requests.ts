import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { OperatorRequest, RequestStatus } from "../../core/operator/approvals";
import type { OperatorRequests } from "../../core/ports";
import { isConditionFailed, queryAll, strip } from "./client";

/** The partition of the rotations table that holds the operator plane's requests and reviews. */
export const OPERATOR_PARTITION = "_operator";
const SK_PREFIX = "REQUEST#";

/**
 * Requests awaiting a second principal, and emergency reviews, one item each in one partition of
 * the rotations table (`secretId` `_operator`, sk `REQUEST#<id>`): no secret's id starts with `_`
 * (`SECRET_ID`), and a request is written a few times in its life, far under a partition's limits.
 * Every write is conditional: created once, then only moved from the status it was read in.
 */
export class DynamoOperatorRequests implements OperatorRequests {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(request: OperatorRequest): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...request,
            secretId: OPERATOR_PARTITION,
            sk: SK_PREFIX + request.requestId,
            about: request.secretId,
          },
          ConditionExpression: "attribute_not_exists(sk)",
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async get(requestId: string): Promise<OperatorRequest | undefined> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { secretId: OPERATOR_PARTITION, sk: SK_PREFIX + requestId },
        ConsistentRead: true,
      }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async list(): Promise<OperatorRequest[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "secretId = :p AND begins_with(sk, :r)",
      ExpressionAttributeValues: { ":p": OPERATOR_PARTITION, ":r": SK_PREFIX },
      ConsistentRead: true,
    });
    return items.map(fromItem).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async transition(
    requestId: string,
    from: RequestStatus,
    changes: Partial<OperatorRequest> & { status: RequestStatus },
  ): Promise<boolean> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { secretId: OPERATOR_PARTITION, sk: SK_PREFIX + requestId },
          UpdateExpression: `SET ${entries.map((_, i) => `#f${i} = :v${i}`).join(", ")}`,
          ConditionExpression: "#status = :from",
          ExpressionAttributeNames: {
            "#status": "status",
            ...Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])),
          },
          ExpressionAttributeValues: {
            ":from": from,
            ...Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }
}

function fromItem(item: Record<string, unknown>): OperatorRequest {
  const { about, ...rest } = strip<Record<string, unknown>>(item, "sk");
  return { ...rest, secretId: (about as string | null | undefined) ?? null } as OperatorRequest;
}
