import { AsyncLocalStorage } from "node:async_hooks";
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type AttributeValue, DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";

/** What the local stream hands each batch to: the real auditArchive handler. */
export type StreamConsumer = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

export interface LocalAuditStream {
  /** The DynamoDB endpoint to give everyone: dynalite behind the stream's tap. */
  endpoint: string;
  /** Records delivered, in order, and records the consumer still failed after every retry. */
  delivered: DynamoDBRecord[];
  stuck: DynamoDBRecord[];
  close(): Promise<void>;
}

type Key = Record<string, AttributeValue>;
const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"]);
const RETRIES = 3;

/**
 * The audit-table items a successful write request changed: each key, and its new image when the
 * request itself carries it (a put replaces the whole item); an update or a delete is read back.
 */
function changedItems(
  action: string,
  body: Record<string, unknown>,
  table: string,
): Array<{ key: Key; image?: Key }> {
  const put = (item: Key) => ({
    key: { stream: item.stream as AttributeValue, seq: item.seq as AttributeValue },
    image: item,
  });
  if (action === "BatchWriteItem") {
    const writes = ((body.RequestItems as Record<string, unknown[]> | undefined)?.[table] ?? []) as Array<{
      PutRequest?: { Item: Key };
      DeleteRequest?: { Key: Key };
    }>;
    return writes.flatMap((w) =>
      w.PutRequest ? [put(w.PutRequest.Item)] : w.DeleteRequest ? [{ key: w.DeleteRequest.Key }] : [],
    );
  }
  if (body.TableName !== table) return [];
  return [action === "PutItem" ? put(body.Item as Key) : { key: body.Key as Key }];
}

/**
 * dynalite has no streams (no DescribeStream/GetRecords; its action list ends at the table
 * operations). This stands in for the audit table's stream and its Lambda event source mapping:
 * a pass-through in front of dynalite that, after each successful write to the audit table, reads
 * its NEW_IMAGE (the put's item, or the item read back) and hands it to the consumer — the shipping
 * auditArchive handler — one record at a time per trail, in the order the writes completed, before
 * the writer gets its answer (so a
 * test that appends and then verifies sees the archive caught up; on AWS the lag is a second or so).
 * A record the consumer reports failed (ReportBatchItemFailures) is redelivered, as Lambda would.
 */
export async function startLocalAuditStream(opts: {
  dynamoEndpoint: string;
  table: string;
  consumer: () => StreamConsumer;
}): Promise<LocalAuditStream> {
  const target = new URL(opts.dynamoEndpoint);
  const reader = new DynamoDBClient({
    endpoint: opts.dynamoEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  // The stream is not part of any function: its read-backs must not be attributed to whichever
  // handler's keep-alive connection carried the write (harness/local/aws-calls.ts records by context).
  const outsideAnyFunction = AsyncLocalStorage.snapshot();
  const seen = new Set<string>();
  const delivered: DynamoDBRecord[] = [];
  const stuck: DynamoDBRecord[] = [];
  let sequence = 0;
  // One queue per stream id (the table's partition key): a trail's records go in order, as a
  // shard delivers them; different trails do not wait for each other.
  const shards = new Map<string, Promise<void>>();
  const enqueue = (shard: string, task: () => Promise<void>): Promise<void> => {
    const next = (shards.get(shard) ?? Promise.resolve()).then(task);
    shards.set(shard, next);
    void next.then(() => {
      if (shards.get(shard) === next) shards.delete(shard);
    });
    return next;
  };

  async function deliver(key: Key, image?: Key): Promise<void> {
    const Item =
      image ??
      (await reader.send(new GetItemCommand({ TableName: opts.table, Key: key, ConsistentRead: true }))).Item;
    const id = JSON.stringify(key);
    const eventName = Item ? (seen.has(id) ? "MODIFY" : "INSERT") : "REMOVE";
    if (Item) seen.add(id);
    else seen.delete(id);
    sequence += 1;
    const record = {
      eventID: String(sequence),
      eventName,
      eventSource: "aws:dynamodb",
      awsRegion: "us-east-1",
      dynamodb: {
        Keys: key,
        ...(Item ? { NewImage: Item } : {}),
        SequenceNumber: String(sequence).padStart(21, "0"),
        StreamViewType: "NEW_IMAGE",
      },
    } as DynamoDBRecord;
    for (let attempt = 0; attempt <= RETRIES; attempt++) {
      const answer = await opts
        .consumer()({ Records: [record] })
        .catch(() => undefined);
      if (answer && answer.batchItemFailures.length === 0) {
        delivered.push(record);
        return;
      }
    }
    stuck.push(record);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer: IncomingMessage) => {
          const parts: Buffer[] = [];
          answer.on("data", (c: Buffer) => parts.push(c));
          answer.on("end", () => {
            const action = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
            const reply = () =>
              res.writeHead(answer.statusCode ?? 500, answer.headers).end(Buffer.concat(parts));
            if (answer.statusCode !== 200 || !WRITES.has(action)) return reply();
            const items = changedItems(
              action,
              JSON.parse(body.toString("utf8")) as Record<string, unknown>,
              opts.table,
            );
            // A read-back that fails leaves the record undelivered, as a lost stream record would.
            const deliveries = items.map(({ key, image }) =>
              enqueue(JSON.stringify(key.stream), () =>
                outsideAnyFunction(() => deliver(key, image).catch(() => undefined)),
              ),
            );
            Promise.all(deliveries).then(reply, reply);
          });
        },
      );
      upstream.on("error", () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    delivered,
    stuck,
    close: async () => {
      await Promise.all(shards.values());
      reader.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
