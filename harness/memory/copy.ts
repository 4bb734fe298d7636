/** What a DynamoDB round trip does to an item: a copy, with undefined attributes dropped. */
export function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
