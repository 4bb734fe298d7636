/**
 * The measured side of the heartbeat bench, in a fresh process (forked by ./heartbeat-throughput.ts):
 * no local stack, no emulators, no async-context bookkeeping of the harness in it — only the
 * heartbeat handler as Lambda loads and invokes it (its module builds its deps from the environment;
 * the middy-wrapped `handler`, a Lambda context per call) and a bare document client built the same
 * way, both talking to dynalite in a third process.
 *
 * Rounds alternate which side goes first (handler, bare UpdateItem / bare UpdateItem, handler), so
 * drift on the shared machine hits both alike; each round's ratio is one sample. The timed rounds are
 * unmetered, as deployed; what one heartbeat costs in requests, capacity and log bytes is counted in
 * a separate pass afterwards.
 */

import { performance } from "node:perf_hooks";
import { PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Context } from "aws-lambda";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { lambdaContext } from "../local/lambda-context";
import { captureLambdaLogs } from "../local/secret-scan";
import { heartbeatEvent } from "./events";
import { DynamoMeter, perOperation, round, spread, type Throughput, throughput } from "./support";

export interface HeartbeatJob {
  /** The handler's environment (table names, region, credentials, the bench dynalite's endpoint). */
  env: Record<string, string>;
  secretId: string;
  callerArn: string;
  fingerprint: string;
  instances: number;
  rounds: number;
  perRound: number;
  concurrency: number;
  /** Heartbeats in the metered pass. */
  metered: number;
  /** Calls per side in the one-in-flight pass. */
  cpuCalls: number;
}

export interface HeartbeatRound {
  /** Which side ran first in this round. */
  first: "handler" | "update";
  handler: Throughput;
  update: Throughput;
  put: Throughput;
}

export interface HeartbeatWorkerResult {
  rounds: HeartbeatRound[];
  oneInFlight: {
    calls: number;
    cpuMicros: { handler: number; update: number };
    wallMicros: { handler: number; update: number };
  };
  perHeartbeat: ReturnType<typeof perOperation> & { logBytes: number };
}

async function run(job: HeartbeatJob): Promise<HeartbeatWorkerResult> {
  Object.assign(process.env, job.env);
  const logs = captureLambdaLogs();
  // What Lambda invokes: the middy-wrapped handler, with a context per invocation.
  const { handler } = await import("../../functions/heartbeat");
  const { secretId, callerArn, fingerprint, instances } = job;
  // Events and contexts are built once: building them is the front door's and the runtime's work.
  const events = Array.from({ length: instances }, (_, i) =>
    heartbeatEvent(callerArn, { secretId, fingerprint, instanceId: `bench-${i}` }),
  );
  const contexts = events.map(() => lambdaContext("heartbeat"));
  let consumerId = "";
  const beat = async (i: number) => {
    const res = await handler(
      events[i % instances] as (typeof events)[number],
      contexts[i % instances] as Context,
    );
    if (res.statusCode !== 200) throw new Error(`heartbeat answered ${res.statusCode}: ${res.body}`);
    consumerId ||= (JSON.parse(res.body ?? "{}") as { consumerId: string }).consumerId;
  };
  // Every instance seen once (its first heartbeat is a change, audited): what follows is the steady state.
  for (let i = 0; i < instances; i++) await beat(i);

  const db = documentClient({ region: job.env.AWS_REGION, endpoint: job.env.KEYSHIFT_ENDPOINT_DYNAMODB });
  const table = job.env.KEYSHIFT_TABLE_CONSUMERS;
  const now = new Date().toISOString();
  // The heartbeat's own write, bare: the same conditional UpdateItem on the same rows the handler
  // writes (same table, keys, item size, expression), with values built once instead of per call.
  const update = (i: number) =>
    db.send(
      new UpdateCommand({
        TableName: table,
        Key: { secretId, sk: `INSTANCE#${consumerId}#bench-${i % instances}` },
        UpdateExpression: "SET lastSeenAt = :seen, expectedBy = :by, expiresAt = :exp, sourceIp = :ip",
        ConditionExpression: "fingerprint = :fp",
        ExpressionAttributeValues: {
          ":seen": now,
          ":by": now,
          ":exp": 2,
          ":fp": fingerprint,
          ":ip": "127.0.0.1",
        },
      }),
    );
  // Raw PutItem of an instance-sized item in a partition of its own: the headline `heartbeatVsPutItem`.
  const put = (i: number) =>
    db.send(
      new PutCommand({
        TableName: table,
        Item: {
          secretId: `${secretId}-raw`,
          sk: `INSTANCE#raw#raw-${i % instances}`,
          consumerId: "raw",
          instanceId: `raw-${i % instances}`,
          fingerprint,
          firstSeenAt: now,
          lastSeenAt: now,
          expectedBy: now,
          expiresAt: 1,
          sourceIp: "127.0.0.1",
        },
      }),
    );

  const rounds = await timedRounds(job, { beat, update, put });
  const single = await oneInFlight(job.cpuCalls, beat, update);

  // The metered pass: every document client in this process counted (warm-up calls included).
  const meter = new DynamoMeter();
  meter.install();
  const linesBefore = logs.lines.length;
  await throughput("heartbeat handler (metered)", job.metered, job.concurrency, beat);
  const usage = meter.snapshot();
  meter.uninstall();
  const counted = job.metered + Math.min(20, job.metered);
  let logBytes = 0;
  for (const line of logs.lines.slice(linesBefore)) logBytes += Buffer.byteLength(line) + 1;
  logs.restore();
  db.destroy();
  return {
    rounds,
    oneInFlight: single,
    perHeartbeat: { ...perOperation(usage, counted), logBytes: round(logBytes / counted, 1) },
  };
}

type Call = (i: number) => Promise<unknown>;

/**
 * Each side starts from an empty young generation (a minor GC before it), so neither pays for the
 * garbage the other left; which of handler and bare write goes first alternates.
 */
async function timedRounds(job: HeartbeatJob, sides: { beat: Call; update: Call; put: Call }) {
  const { perRound, concurrency } = job;
  const side = (label: string, fn: Call) => {
    collectYoung();
    return throughput(label, perRound, concurrency, fn);
  };
  const rounds: HeartbeatRound[] = [];
  for (let r = 0; r < job.rounds; r++) {
    const first = r % 2 === 0 ? "handler" : "update";
    let handler: Throughput;
    let bare: Throughput;
    if (first === "handler") {
      handler = await side("heartbeat handler (steady state)", sides.beat);
      bare = await side("bare conditional UpdateItem", sides.update);
    } else {
      bare = await side("bare conditional UpdateItem", sides.update);
      handler = await side("heartbeat handler (steady state)", sides.beat);
    }
    const put = await side("raw PutItem", sides.put);
    rounds.push({ first, handler, update: bare, put });
  }
  return rounds;
}

/**
 * One call at a time, handler and bare write alternating call by call — one in flight is how Lambda
 * runs a function (one invocation per environment). Per side, the medians of the CPU this process
 * spends on a call (what the handler adds to its write on the client, free of the server and of
 * waiting: it moves by a few µs where throughput moves by ±15 %) and of the call's wall time.
 */
async function oneInFlight(calls: number, beat: Call, update: Call) {
  const cpu: { handler: number[]; update: number[] } = { handler: [], update: [] };
  const wall: { handler: number[]; update: number[] } = { handler: [], update: [] };
  for (let i = 0; i < 2 * calls; i++) {
    const [side, fn] = i % 2 === 0 ? (["handler", beat] as const) : (["update", update] as const);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    await fn(i >> 1);
    wall[side].push((performance.now() - start) * 1000);
    const spent = process.cpuUsage(cpuBefore);
    cpu[side].push(spent.user + spent.system);
  }
  const median = (xs: number[]) => Math.round(spread(xs).median);
  return {
    calls,
    cpuMicros: { handler: median(cpu.handler), update: median(cpu.update) },
    wallMicros: { handler: median(wall.handler), update: median(wall.update) },
  };
}

/** A scavenge of the young generation, where the process was started with --expose-gc. */
function collectYoung(): void {
  const gc = (globalThis as { gc?: (options: { type: "minor" }) => void }).gc;
  gc?.({ type: "minor" });
}

process.once("message", (job: HeartbeatJob) => {
  const answer = (message: { result?: HeartbeatWorkerResult; error?: string }, code: number) =>
    process.send?.(message, undefined, undefined, () => process.exit(code));
  run(job).then(
    (result) => answer({ result }, 0),
    (err: unknown) => answer({ error: String((err as Error)?.stack ?? err) }, 1),
  );
});
