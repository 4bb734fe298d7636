import { type DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { isConditionFailed } from "./client";

export interface ConditionalUpdate<T> {
  table: string;
  key: Record<string, unknown>;
  /** A key attribute: the update requires the item to exist (it never creates one). */
  existing: string;
  expression: string;
  condition: string;
  /** Every `#name` the table's expressions may use; only those this one mentions are sent. */
  names: Readonly<Record<string, string>>;
  /** Its `:values`; only those the expressions mention are sent. */
  values: Record<string, unknown>;
  /** The item as the port returns it (the table's own attributes dropped). */
  fromItem(item: Record<string, unknown>): T;
  /** The item as it stands, when the condition refused the update. */
  reread(): Promise<T>;
}

/**
 * One conditional UpdateItem of an existing item, answering the item as it is afterwards: the new
 * one (`ReturnValues: ALL_NEW`), or — refused — the one that refused it, read again. Only the names
 * and values its expressions use are sent: DynamoDB refuses unused ones.
 */
export async function updateOrReread<T>(db: DynamoDBDocumentClient, u: ConditionalUpdate<T>): Promise<T> {
  const text = `${u.expression} ${u.condition}`;
  const names = mentioned(text, u.names);
  const values = mentioned(text, u.values);
  try {
    const out = await db.send(
      new UpdateCommand({
        TableName: u.table,
        Key: u.key,
        UpdateExpression: u.expression,
        ConditionExpression: `attribute_exists(${u.existing}) AND (${u.condition})`,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        ReturnValues: "ALL_NEW",
      }),
    );
    return u.fromItem(out.Attributes ?? {});
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
    return u.reread();
  }
}

/** The entries of `record` whose `#name` / `:value` token `text` mentions: DynamoDB refuses unused ones. */
export function mentioned<V>(text: string, record: Readonly<Record<string, V>>): Record<string, V> {
  const used = (token: string) => new RegExp(`${token}(?![A-Za-z0-9_])`).test(text);
  return Object.fromEntries(Object.entries(record).filter(([k]) => used(k)));
}
