import { PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { DynamoConsumerRegistry } from "../../src/adapters/dynamodb/consumer-registry";
import { DynamoRotationStore } from "../../src/adapters/dynamodb/rotation-store";
import type { ConsumerRegistry, RotationStore } from "../../src/core/ports";
import { principalKey } from "../../src/core/principal";
import type { LocalStack } from "../local/stack";
import { heartbeatEvent } from "./events";
import { DynamoMeter, median, perOperation, round, type Throughput, throughput } from "./support";

/**
 * heartbeatVsPutItem: the heartbeat handler (event in, answer out, in this process, with its own
 * composition) in the steady state — instances that report the fingerprint they reported before —
 * against raw PutItem of an instance-sized item on the same dynalite, same concurrency. The ratio
 * is how close the handler comes to the one write it cannot avoid.
 */
export async function heartbeatVsPutItem(opts: {
  stack: LocalStack;
  secretId: string;
  callerArn: string;
  fingerprint: string;
  meter: DynamoMeter;
  /** The handlers' captured log lines: what one heartbeat logs is part of its cost. */
  logLines: string[];
  n?: number;
  concurrency?: number;
  /** Distinct instances the heartbeats cycle through (each seen once before the measured rounds). */
  instances?: number;
  /** Interleaved rounds; the verdict is their median ratio (one round can swing ±30 % here). */
  rounds?: number;
}) {
  const { stack, secretId, callerArn, fingerprint, meter } = opts;
  const n = opts.n ?? 2000;
  const concurrency = opts.concurrency ?? 8;
  const INSTANCES = opts.instances ?? 200;
  const { heartbeatRoute } = await import("../../functions/heartbeat");
  // The events are built once: building one is the front door's work, not the handler's.
  const events = Array.from({ length: INSTANCES }, (_, i) =>
    heartbeatEvent(callerArn, { secretId, fingerprint, instanceId: `bench-${i}` }),
  );
  const beat = async (i: number) => {
    const res = await heartbeatRoute(events[i % INSTANCES] as (typeof events)[number]);
    if (res.statusCode !== 200) throw new Error(`heartbeat answered ${res.statusCode}: ${res.body}`);
  };
  // Every instance seen once (its first heartbeat is a change, audited): what follows is the steady state.
  for (let i = 0; i < INSTANCES; i++) await beat(i);

  const db = documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb });
  const now = new Date().toISOString();
  const put = (i: number) =>
    db.send(
      new PutCommand({
        TableName: stack.tables.consumers,
        Item: {
          secretId: `${secretId}-raw`,
          sk: `INSTANCE#raw#raw-${i % INSTANCES}`,
          consumerId: "raw",
          instanceId: `raw-${i % INSTANCES}`,
          fingerprint,
          firstSeenAt: now,
          lastSeenAt: now,
          expectedBy: now,
          expiresAt: 1,
        },
      }),
    );

  // The heartbeat's own write, bare: the conditional UpdateItem of a row that exists (dynalite reads
  // before it writes an update, a put does not): what the handler adds is measured against this too.
  for (let i = 0; i < INSTANCES; i++) await put(i);
  const update = (i: number) =>
    db.send(
      new UpdateCommand({
        TableName: stack.tables.consumers,
        Key: { secretId: `${secretId}-raw`, sk: `INSTANCE#raw#raw-${i % INSTANCES}` },
        UpdateExpression: "SET lastSeenAt = :seen, expectedBy = :by, expiresAt = :exp",
        ConditionExpression: "fingerprint = :fp",
        ExpressionAttributeValues: { ":seen": now, ":by": now, ":exp": 2, ":fp": fingerprint },
      }),
    );
  const updates: Throughput[] = [];

  // Interleaved rounds, so drift on the shared machine hits both sides alike. Only the heartbeat
  // rounds are metered (warm-up calls included in the count they are divided by).
  const rounds = opts.rounds ?? 12;
  const perRound = Math.floor(n / rounds);
  const heartbeats = [];
  const puts = [];
  const usage = DynamoMeter.empty();
  let counted = 0;
  let logBytes = 0;
  for (let r = 0; r < rounds; r++) {
    // Which side goes first alternates: neither gets the warmer (or quieter) half of every round.
    if (r % 2 === 1) puts.push(await throughput("raw PutItem", perRound, concurrency, put));
    meter.reset();
    const linesBefore = opts.logLines.length;
    heartbeats.push(await throughput("heartbeat handler (steady state)", perRound, concurrency, beat));
    counted += perRound + Math.min(20, perRound);
    accumulate(usage, meter.snapshot());
    for (const line of opts.logLines.slice(linesBefore)) logBytes += Buffer.byteLength(line) + 1;
    if (r % 2 === 0) puts.push(await throughput("raw PutItem", perRound, concurrency, put));
    updates.push(await throughput("raw conditional UpdateItem", perRound, concurrency, update));
  }
  const refresh = await refillCost(stack, secretId, callerArn, meter);
  db.destroy();
  const hbRate = heartbeats.reduce((a, t) => a + t.opsPerSecond, 0) / rounds;
  const putRate = puts.reduce((a, t) => a + t.opsPerSecond, 0) / rounds;
  const updateRate = updates.reduce((a, t) => a + t.opsPerSecond, 0) / rounds;
  return {
    ratio: round(hbRate / putRate),
    heartbeatOpsPerSecond: Math.round(hbRate),
    putItemOpsPerSecond: Math.round(putRate),
    updateItemOpsPerSecond: Math.round(updateRate),
    /**
     * Against the one write the steady state makes: what the handler itself costs. The median of
     * the rounds' ratios: on a shared machine single rounds swing from 0.6 to 1.2.
     */
    heartbeatVsItsUpdateItem: round(
      median(heartbeats.map((h, r) => h.opsPerSecond / (updates[r]?.opsPerSecond ?? 1))),
    ),
    heartbeatVsItsUpdateItemMean: round(hbRate / updateRate),
    /** The same, round by round: how much the shared machine moved it. */
    heartbeatVsItsUpdateItemByRound: heartbeats.map((h, r) =>
      round(h.opsPerSecond / (updates[r]?.opsPerSecond ?? 1)),
    ),
    concurrency,
    n,
    perHeartbeat: { ...perOperation(usage, counted), logBytes: round(logBytes / counted, 1) },
    refresh,
  };
}

function accumulate(into: ReturnType<typeof DynamoMeter.empty>, from: ReturnType<typeof DynamoMeter.empty>) {
  for (const [k, v] of Object.entries(from.requests)) into.requests[k] = (into.requests[k] ?? 0) + v;
  into.readUnits += from.readUnits;
  into.writeUnits += from.writeUnits;
  into.conditionalFailures += from.conditionalFailures;
}

/**
 * What refilling the heartbeat's container caches costs: read units of one secret-state read and
 * one registrations-by-principal read, as the adapters send them (absent where they do not exist).
 */
async function refillCost(stack: LocalStack, secretId: string, callerArn: string, meter: DynamoMeter) {
  const db = documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb });
  const store = new DynamoRotationStore(db, stack.tables.rotations) as Partial<RotationStore>;
  const registry = new DynamoConsumerRegistry(db, stack.tables.consumers) as Partial<ConsumerRegistry>;
  if (typeof store.getSecretState !== "function" || typeof registry.listByPrincipal !== "function") {
    db.destroy();
    return undefined;
  }
  meter.reset();
  await store.getSecretState(secretId);
  const stateReadUnits = meter.snapshot().readUnits;
  meter.reset();
  await registry.listByPrincipal(principalKey(callerArn));
  const registrationReadUnits = meter.snapshot().readUnits;
  db.destroy();
  return { stateReadUnits, registrationReadUnits };
}
