import { type ChildProcess, fork } from "node:child_process";
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { DynamoConsumerRegistry } from "../../src/adapters/dynamodb/consumer-registry";
import { DynamoRotationStore } from "../../src/adapters/dynamodb/rotation-store";
import type { ConsumerRegistry, RotationStore } from "../../src/core/ports";
import { principalKey } from "../../src/core/principal";
import type { LocalStack } from "../local/stack";
import type { HeartbeatJob, HeartbeatWorkerResult } from "./heartbeat-worker";
import type { DynamoMeter } from "./support";
import { round, spread } from "./support";

/**
 * heartbeatVsPutItem: the heartbeat handler in the steady state — instances that report the
 * fingerprint they reported before — against the one write it cannot avoid, its own conditional
 * UpdateItem sent bare on the same rows, side by side; and against a raw PutItem of an
 * instance-sized item (the headline ratio, kept from the first bench, now also a median of rounds).
 *
 * Three processes, so the ratio is the handler's and not the harness's: dynalite alone in one
 * (./dynalite-process.ts; in the stack's process its CPU competed with the client being timed), the
 * handler and the bare client in a fresh one with nothing else loaded (./heartbeat-worker.ts), and
 * this one, which copies the secret's rows (its state, the consumer's registration) from the stack's
 * tables into that dynalite first. The verdict is the median of the rounds' ratios, with quartiles
 * and extremes: on this shared two-core machine one round swings from 0.5 to 1.8, the median of 60
 * by a few hundredths between runs.
 */
export async function heartbeatVsPutItem(opts: {
  stack: LocalStack;
  secretId: string;
  callerArn: string;
  fingerprint: string;
  meter: DynamoMeter;
  /** Heartbeats per side in all (split into rounds). */
  n?: number;
  concurrency?: number;
  /** Distinct instances the heartbeats cycle through (each seen once before the measured rounds). */
  instances?: number;
  /** Interleaved rounds, each one sample of the ratio. */
  rounds?: number;
}) {
  const { stack, secretId, callerArn, fingerprint, meter } = opts;
  const n = opts.n ?? 6000;
  const rounds = opts.rounds ?? 60;
  const concurrency = opts.concurrency ?? 8;
  const perRound = Math.max(1, Math.floor(n / rounds));
  const dynamo = await startDynamoProcess(stack.tables);
  let outcome: HeartbeatWorkerResult;
  try {
    await copySecretRows(stack, dynamo.endpoint, secretId);
    outcome = await runWorker({
      env: { ...stack.env, KEYSHIFT_ENDPOINT_DYNAMODB: dynamo.endpoint, POWERTOOLS_LOG_LEVEL: "INFO" },
      secretId,
      callerArn,
      fingerprint,
      instances: opts.instances ?? 200,
      rounds,
      perRound,
      concurrency,
      metered: Math.min(1000, n),
      cpuCalls: Math.min(3000, n),
    });
  } finally {
    dynamo.stop();
  }
  const refresh = await refillCost(stack, secretId, callerArn, meter);
  const r = outcome.rounds;
  const vsUpdate = r.map((x) => x.handler.opsPerSecond / x.update.opsPerSecond);
  const vsPut = r.map((x) => x.handler.opsPerSecond / x.put.opsPerSecond);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const roundAll = (o: Record<string, number>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v)]));
  return {
    ratio: round(spread(vsPut).median),
    heartbeatOpsPerSecond: Math.round(mean(r.map((x) => x.handler.opsPerSecond))),
    putItemOpsPerSecond: Math.round(mean(r.map((x) => x.put.opsPerSecond))),
    updateItemOpsPerSecond: Math.round(mean(r.map((x) => x.update.opsPerSecond))),
    /** Against the one write the steady state makes: the median of the rounds' ratios. */
    heartbeatVsItsUpdateItem: round(spread(vsUpdate).median),
    /** How far the rounds scatter around it (quartiles, extremes). */
    heartbeatVsItsUpdateItemSpread: roundAll(spread(vsUpdate)),
    /** The same, round by round, in the order they ran (odd rounds ran the bare write first). */
    heartbeatVsItsUpdateItemByRound: vsUpdate.map((v) => round(v)),
    /**
     * One call in flight, handler and bare write alternating call by call (medians): the client's
     * CPU per call (what the handler adds on top of the SDK call, free of the server and the
     * waiting) and the call's latency, whose ratio is the per-environment rate as Lambda runs it.
     */
    oneInFlight: {
      ...outcome.oneInFlight,
      latencyRatio: round(outcome.oneInFlight.wallMicros.update / outcome.oneInFlight.wallMicros.handler),
    },
    rounds: r.length,
    perRound,
    concurrency,
    n: perRound * r.length,
    perHeartbeat: outcome.perHeartbeat,
    refresh,
  };
}

/** dynalite with the stack's table definitions, alone in a child process. */
async function startDynamoProcess(tables: LocalStack["tables"]): Promise<{ endpoint: string; stop(): void }> {
  const child = fork(new URL("./dynalite-process.ts", import.meta.url).pathname, [], {
    env: { ...process.env, BENCH_TABLES: JSON.stringify(tables) },
  });
  const { endpoint } = await firstMessage<{ endpoint: string }>(child, "dynalite");
  return { endpoint, stop: () => child.disconnect() };
}

function runWorker(job: HeartbeatJob): Promise<HeartbeatWorkerResult> {
  // --expose-gc: each timed side starts from an empty young generation (./heartbeat-worker.ts).
  const child = fork(new URL("./heartbeat-worker.ts", import.meta.url).pathname, [], {
    env: process.env,
    execArgv: [...process.execArgv, "--expose-gc"],
  });
  child.send(job);
  return firstMessage<{ result?: HeartbeatWorkerResult; error?: string }>(child, "heartbeat worker").then(
    (m) => {
      if (!m.result) throw new Error(`bench: heartbeat worker failed: ${m.error}`);
      return m.result;
    },
  );
}

function firstMessage<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m as T));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bench: ${what} exited (${code}) before answering`)));
  });
}

/** The secret's partition of the consumers and rotations tables, as enrollment left it, copied over. */
async function copySecretRows(stack: LocalStack, endpoint: string, secretId: string): Promise<void> {
  const from = documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb });
  const to = documentClient({ region: stack.region, endpoint });
  try {
    for (const table of [stack.tables.consumers, stack.tables.rotations]) {
      const page = await from.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "secretId = :s",
          ExpressionAttributeValues: { ":s": secretId },
        }),
      );
      if (page.LastEvaluatedKey) throw new Error(`bench: ${table} holds more of ${secretId} than one page`);
      for (const Item of page.Items ?? []) await to.send(new PutCommand({ TableName: table, Item }));
    }
  } finally {
    from.destroy();
    to.destroy();
  }
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
