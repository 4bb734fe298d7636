import { performance } from "node:perf_hooks";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

export interface Throughput {
  label: string;
  n: number;
  concurrency: number;
  totalMs: number;
  perOpMs: number;
  opsPerSecond: number;
  /**
   * CPU this process spent per call (user + system), warm-up excluded. Only the client's own cost
   * when the server runs in another process (./dynalite-process.ts).
   */
  cpuMicrosPerOp: number;
}

/**
 * Runs `fn` n times with `concurrency` calls in flight after a short warm-up, and reports the rate.
 * Side-by-side ratios from one process are what count: the machine is shared, absolute numbers drift.
 */
export async function throughput(
  label: string,
  n: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<Throughput> {
  for (let i = 0; i < Math.min(20, n); i++) await fn(n + i);
  let next = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  const totalMs = performance.now() - start;
  const spent = process.cpuUsage(cpu);
  return {
    label,
    n,
    concurrency,
    totalMs: Math.round(totalMs),
    perOpMs: +(totalMs / n).toFixed(3),
    opsPerSecond: Math.round((n / totalMs) * 1000),
    cpuMicrosPerOp: Math.round((spent.user + spent.system) / n),
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Where a sample lies: its median, quartiles (linear interpolation) and extremes. */
export function spread(values: number[]): {
  median: number;
  p25: number;
  p75: number;
  min: number;
  max: number;
} {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = (sorted.length - 1) * q;
    const lo = sorted[Math.floor(pos)] ?? 0;
    const hi = sorted[Math.ceil(pos)] ?? lo;
    return lo + (hi - lo) * (pos - Math.floor(pos));
  };
  return { median: at(0.5), p25: at(0.25), p75: at(0.75), min: at(0), max: at(1) };
}

export const round = (value: number, digits = 2) => +value.toFixed(digits);

export interface DynamoUsage {
  /** Requests by operation name (`Query`, `UpdateItem`, ...). */
  requests: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  conditionalFailures: number;
}

/**
 * Counts every DynamoDB request any document client in this process sends, and the capacity it
 * consumed as the table reports it (`ReturnConsumedCapacity: TOTAL`, which dynalite computes from
 * item sizes the way DynamoDB does). A conditional write that fails still costs DynamoDB a write
 * unit; dynalite reports nothing for it, so it is counted as one here.
 */
export class DynamoMeter {
  private usage: DynamoUsage = DynamoMeter.empty();
  private original?: DynamoDBDocumentClient["send"];

  static empty(): DynamoUsage {
    return { requests: {}, readUnits: 0, writeUnits: 0, conditionalFailures: 0 };
  }

  install(): void {
    if (this.original) return;
    const original = DynamoDBDocumentClient.prototype.send;
    this.original = original;
    const usage = () => this.usage;
    type Command = { constructor: { name: string }; input?: Record<string, unknown> };
    type Send = (this: DynamoDBDocumentClient, command: Command, ...rest: unknown[]) => Promise<unknown>;
    const metered: Send = async function (command, ...rest) {
      const name = command.constructor.name.replace(/Command$/, "");
      const u = usage();
      u.requests[name] = (u.requests[name] ?? 0) + 1;
      if (command.input) command.input.ReturnConsumedCapacity = "TOTAL";
      try {
        const out = (await (original as unknown as Send).call(this, command, ...rest)) as {
          ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
        };
        const consumed = out?.ConsumedCapacity;
        for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
          const units = Number(c.CapacityUnits ?? 0);
          if (/Put|Update|Delete|Write/.test(name)) u.writeUnits += units;
          else u.readUnits += units;
        }
        return out;
      } catch (err) {
        if ((err as Error).name === "ConditionalCheckFailedException") {
          u.conditionalFailures += 1;
          u.writeUnits += 1;
        }
        throw err;
      }
    };
    DynamoDBDocumentClient.prototype.send = metered as unknown as typeof original;
  }

  uninstall(): void {
    if (this.original) DynamoDBDocumentClient.prototype.send = this.original;
    this.original = undefined;
  }

  reset(): void {
    this.usage = DynamoMeter.empty();
  }

  snapshot(): DynamoUsage {
    return JSON.parse(JSON.stringify(this.usage)) as DynamoUsage;
  }
}

/** Per-operation usage divided by `n` (what one heartbeat costs on average). */
export function perOperation(usage: DynamoUsage, n: number) {
  const requests = Object.values(usage.requests).reduce((a, b) => a + b, 0);
  return {
    requests: round(requests / n, 3),
    byOperation: Object.fromEntries(Object.entries(usage.requests).map(([k, v]) => [k, round(v / n, 3)])),
    readUnits: round(usage.readUnits / n, 3),
    writeUnits: round(usage.writeUnits / n, 3),
  };
}
