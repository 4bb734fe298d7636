import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { round } from "./support";

/**
 * List prices (USD, us-east-1; see docs/deploy.md "Front door" for the sources): what one heartbeat
 * costs is the sum of what it makes each service do, counted in the benchmark, times these.
 */
export const PRICES = {
  lambdaPerMillionRequests: 0.2,
  /** arm64, per GB-second. */
  lambdaArmPerGbSecond: 0.0000133334,
  httpApiPerMillionRequests: 1.0,
  functionUrlPerMillionRequests: 0,
  dynamoWritePerMillionUnits: 0.625,
  dynamoReadPerMillionUnits: 0.125,
  logsIngestionPerGb: 0.5,
};

const SECONDS_PER_MONTH = 30 * 24 * 3600;

export interface HeartbeatCost {
  /** DynamoDB requests, read and write units one heartbeat costs (measured). */
  dynamoRequests: number;
  readUnits: number;
  writeUnits: number;
  /** Bytes the function logs per heartbeat (measured) plus the platform's own lines. */
  logBytes: number;
  frontDoorPerMillion: number;
  memoryMB: number;
  /**
   * Billed duration. Not measurable without AWS: in-region DynamoDB answers in single-digit ms;
   * the model takes 4 ms of handler time plus 6 ms per DynamoDB request (stated, not measured).
   */
  durationMs?: number;
}

export function durationOf(cost: HeartbeatCost): number {
  return cost.durationMs ?? 4 + 6 * cost.dynamoRequests;
}

/** Dollars a month for `instances` instances that heartbeat `beatsPerInstanceMonth` times each. */
export function monthlyCost(cost: HeartbeatCost, beatsPerInstanceMonth: number, instances = 1000) {
  const beats = beatsPerInstanceMonth * instances;
  const million = beats / 1e6;
  const parts = {
    frontDoor: million * cost.frontDoorPerMillion,
    lambdaRequests: million * PRICES.lambdaPerMillionRequests,
    lambdaDuration: beats * (durationOf(cost) / 1000) * (cost.memoryMB / 1024) * PRICES.lambdaArmPerGbSecond,
    dynamoWrites: million * cost.writeUnits * PRICES.dynamoWritePerMillionUnits,
    dynamoReads: million * cost.readUnits * PRICES.dynamoReadPerMillionUnits,
    logs: ((beats * cost.logBytes) / 1024 ** 3) * PRICES.logsIngestionPerGb,
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  return {
    totalUSD: round(total),
    heartbeatsPerMonth: beats,
    partsUSD: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, round(v)])),
  };
}

/** Heartbeats a month for one instance at a fixed interval. */
export function fixedBeats(intervalSeconds: number): number {
  return SECONDS_PER_MONTH / intervalSeconds;
}

/**
 * Heartbeats a month for one instance under the server-driven interval: idle the whole month
 * except, per rotation, the active interval while the rotation runs (`rotationSeconds`) and the
 * due window after a scheduled start.
 */
export function serverDrivenBeats(opts: {
  idleSeconds: number;
  activeSeconds: number;
  rotationsPerMonth: number;
  rotationSeconds: number;
  dueWindowSeconds: number;
}): number {
  const fast = opts.rotationsPerMonth * (opts.rotationSeconds + opts.dueWindowSeconds);
  return (SECONDS_PER_MONTH - fast) / opts.idleSeconds + fast / opts.activeSeconds;
}

/** What the template says about the heartbeat function: front door, memory, platform log lines. */
export interface HeartbeatDeployment {
  frontDoor: "function-url" | "http-api";
  memoryMB: number;
  /** Lambda's own START/END/REPORT lines per invocation: ~245 bytes as text, none at JSON + WARN. */
  platformLogBytes: number;
}

export function heartbeatDeployment(): HeartbeatDeployment {
  const root = join(import.meta.dirname, "..", "..");
  const functions = parse(readFileSync(join(root, "infra", "functions.yml"), "utf8")) as Record<
    string,
    { url?: unknown; memorySize?: number; logs?: { systemLogLevel?: string } }
  >;
  const sls = parse(readFileSync(join(root, "serverless.yml"), "utf8")) as {
    provider: { memorySize: number };
  };
  const hb = functions.heartbeat ?? {};
  return {
    frontDoor: hb.url ? "function-url" : "http-api",
    memoryMB: hb.memorySize ?? sls.provider.memorySize,
    platformLogBytes: hb.logs?.systemLogLevel === "WARN" ? 0 : 245,
  };
}

/**
 * Dollars per 1,000 instances a month, from what one heartbeat was counted to cost (DynamoDB
 * requests and capacity units, bytes logged) and what the template deploys, at the default
 * server-driven intervals (one rotation a month) and at a fixed 30 s.
 */
export function costModel(
  perHeartbeat: { requests: number; readUnits: number; writeUnits: number; logBytes: number },
  opts: {
    /** Server-driven (idle/active, one rotation a month), or `fixedSeconds` for a fleet on a fixed interval. */
    intervals?:
      | { idleSeconds: number; activeSeconds: number; rotationSeconds: number }
      | { fixedSeconds: number };
    /**
     * Container caches (src/adapters/heartbeat-cache.ts) re-read a secret's state every `stateTtl`
     * and a principal's registrations every `registrationTtl` while heartbeats keep coming; at fleet
     * rates one container serves them all. Read units per re-read as counted by the benchmark.
     */
    refresh?: {
      stateTtlSeconds: number;
      stateReadUnits: number;
      registrationTtlSeconds: number;
      registrationReadUnits: number;
      principals: number;
    };
    deployment?: HeartbeatDeployment;
  } = {},
) {
  const intervals = opts.intervals ?? { idleSeconds: 300, activeSeconds: 5, rotationSeconds: 900 };
  const deployment = opts.deployment ?? heartbeatDeployment();
  const beatsPerSecond =
    1000 / ("fixedSeconds" in intervals ? intervals.fixedSeconds : intervals.idleSeconds);
  const r = opts.refresh;
  const refreshPerSecond = r
    ? {
        requests: Math.min(beatsPerSecond, 1 / r.stateTtlSeconds + r.principals / r.registrationTtlSeconds),
        readUnits:
          Math.min(beatsPerSecond, 1 / r.stateTtlSeconds) * r.stateReadUnits +
          Math.min(beatsPerSecond, r.principals / r.registrationTtlSeconds) * r.registrationReadUnits,
      }
    : { requests: 0, readUnits: 0 };
  const cost: HeartbeatCost = {
    dynamoRequests: perHeartbeat.requests + refreshPerSecond.requests / beatsPerSecond,
    readUnits: perHeartbeat.readUnits + refreshPerSecond.readUnits / beatsPerSecond,
    writeUnits: perHeartbeat.writeUnits,
    logBytes: perHeartbeat.logBytes + deployment.platformLogBytes,
    frontDoorPerMillion:
      deployment.frontDoor === "function-url"
        ? PRICES.functionUrlPerMillionRequests
        : PRICES.httpApiPerMillionRequests,
    memoryMB: deployment.memoryMB,
  };
  const beats =
    "fixedSeconds" in intervals
      ? fixedBeats(intervals.fixedSeconds)
      : serverDrivenBeats({
          idleSeconds: intervals.idleSeconds,
          activeSeconds: intervals.activeSeconds,
          rotationsPerMonth: 1,
          rotationSeconds: intervals.rotationSeconds,
          dueWindowSeconds: 600,
        });
  return {
    deployment,
    refresh: opts.refresh,
    perHeartbeat: { ...cost, durationMs: durationOf(cost) },
    intervals,
    atDefaults: monthlyCost(cost, beats),
    atFixed30s: monthlyCost(cost, fixedBeats(30)),
    prices: PRICES,
  };
}
