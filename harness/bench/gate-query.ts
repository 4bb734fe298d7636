import { performance } from "node:perf_hooks";
import { BatchWriteCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { documentClient, queryAll } from "../../src/adapters/dynamodb/client";
import { registerConsumer } from "../../src/core/operator/operator";
import { readinessOf } from "../../src/core/revocation/gate";
import type { Enrolled } from "../local/scenario";
import type { LocalStack } from "../local/stack";
import { median, round } from "./support";

const CONSUMERS = 10;

/**
 * gateVsQuery10k: the gate (`readinessOf`: registrations + instances, judged) over `instances`
 * instance rows of one secret, against a raw paginated Query of the same rows with the same
 * consistency. Both read the same pages; the ratio is what judging costs on top of reading.
 */
export async function gateVsQuery(opts: { stack: LocalStack; enrolled: Enrolled; instances?: number }) {
  const { stack, enrolled } = opts;
  const total = opts.instances ?? 10_000;
  const db = documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb });
  const secretId = enrolled.secretId;
  const current =
    (await enrolled.deps.store.getVersions(secretId))?.current?.fingerprint ?? "fp1_0000000000000000";
  for (let c = 0; c < CONSUMERS; c++) {
    await registerConsumer(
      {
        secretId,
        consumerId: `fleet-${c}`,
        principalArn: `arn:aws:iam::111122223333:role/fleet-${c}`,
        cacheTtlSeconds: 1,
        heartbeatIntervalSeconds: 60,
        required: true,
      },
      "operator:bench",
      enrolled.deps,
    );
  }
  await seedInstances(db, stack.tables.consumers, secretId, total, current);
  const settings = enrolled.settings;
  const gate = async () => {
    const now = new Date();
    const readiness = await readinessOf(enrolled.deps, {
      secretId,
      currentFingerprint: current,
      promotedAt: new Date(now.getTime() - 3600_000).toISOString(),
      settings,
      now,
    });
    if (!readiness.ready)
      throw new Error(`gate over the bench fleet is not ready: ${JSON.stringify(readiness)}`);
  };
  const query = async () => {
    const items = await queryAll(db, {
      TableName: stack.tables.consumers,
      KeyConditionExpression: "secretId = :s AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":s": secretId, ":p": "INSTANCE#" },
      ConsistentRead: true,
    });
    if (items.length !== total) throw new Error(`query found ${items.length} instances, expected ${total}`);
  };
  await gate();
  await query();
  const gateMs: number[] = [];
  const queryMs: number[] = [];
  for (let r = 0; r < 7; r++) {
    for (const [fn, into] of [
      [gate, gateMs],
      [query, queryMs],
    ] as const) {
      const start = performance.now();
      await fn();
      into.push(performance.now() - start);
    }
  }
  db.destroy();
  const g = median(gateMs);
  const q = median(queryMs);
  return {
    ratio: round(g / q),
    gateMs: round(g, 1),
    queryMs: round(q, 1),
    instances: total,
    consumers: CONSUMERS,
  };
}

/** Instance rows as the heartbeat writes them, every one live on `fingerprint`. */
async function seedInstances(
  db: DynamoDBDocumentClient,
  table: string,
  secretId: string,
  total: number,
  fingerprint: string,
) {
  const now = Date.now();
  const rows = Array.from({ length: total }, (_, i) => {
    const consumerId = `fleet-${i % CONSUMERS}`;
    const instanceId = `i-${i}`;
    const seen = new Date(now).toISOString();
    return {
      secretId,
      sk: `INSTANCE#${consumerId}#${instanceId}`,
      consumerId,
      instanceId,
      fingerprint,
      firstSeenAt: seen,
      lastSeenAt: seen,
      // Far enough ahead that every row is live whichever liveness rule judges it.
      expectedBy: new Date(now + 3600_000).toISOString(),
      expiresAt: Math.floor(now / 1000) + 7 * 86_400,
    };
  });
  for (let i = 0; i < rows.length; i += 25) {
    let RequestItems: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = {
      [table]: rows.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
    };
    while (RequestItems && Object.keys(RequestItems).length > 0) {
      const out = await db.send(new BatchWriteCommand({ RequestItems }));
      RequestItems = out.UnprocessedItems as typeof RequestItems;
    }
  }
}
