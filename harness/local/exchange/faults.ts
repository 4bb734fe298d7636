/**
 * Deterministic fault injection for the simulated exchange.
 *
 * Each endpoint has its own seeded PRNG (mulberry32), re-seeded from `(seed, endpoint)` whenever a
 * fault is set on it, so the same seed plus the same sequence of calls after `setFault` always
 * yields the same faults, whatever traffic the other endpoints saw.
 */

export const EXCHANGE_ENDPOINTS = [
  "createKey",
  "listKeys",
  "account",
  "disableKey",
  "removeKey",
  "enableKey",
  "editKey",
] as const;
export type ExchangeEndpoint = (typeof EXCHANGE_ENDPOINTS)[number];

/**
 * - `4xx`: 400 `INJECTED`; `5xx`: 503; `429`: 429 with `retry-after`; `timeout`: the request is held
 *   and the socket destroyed without a response. None of these take effect: the fault is decided
 *   before authentication and before the operation runs.
 * - `5xx-after-effect`: the operation runs (key created, removed, …) but the answer is replaced by a
 *   503, as when a response is lost between the exchange and the caller.
 */
export const FAULT_KINDS = ["4xx", "5xx", "429", "timeout", "5xx-after-effect"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  /** Fraction (0..1) of calls to fail, drawn from the endpoint's seeded PRNG. */
  errorRate?: number;
  /** Fail the next K calls (before `errorRate` is consulted), then stop. */
  failNext?: number;
  /** What a failure looks like; default `5xx`. */
  kind?: FaultKind;
  /** Delay added to every call of the endpoint, failed or not. */
  latencyMs?: number;
}

export interface FaultDecision {
  fault?: FaultKind;
  latencyMs: number;
}

/** mulberry32: tiny, fast, good enough for reproducible fault patterns (not for secrets). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function isExchangeEndpoint(value: unknown): value is ExchangeEndpoint {
  return typeof value === "string" && (EXCHANGE_ENDPOINTS as readonly string[]).includes(value);
}

/** Throws a plain `Error` naming the offending field; the control plane maps it to a 400. */
export function validateFaultSpec(spec: Record<string, unknown>): FaultSpec {
  const { errorRate, failNext, kind, latencyMs } = spec;
  const out: FaultSpec = {};
  if (errorRate !== undefined) {
    if (typeof errorRate !== "number" || !(errorRate >= 0 && errorRate <= 1)) {
      throw new Error("errorRate must be a number between 0 and 1");
    }
    out.errorRate = errorRate;
  }
  if (failNext !== undefined) {
    if (typeof failNext !== "number" || !Number.isInteger(failNext) || failNext < 0) {
      throw new Error("failNext must be a non-negative integer");
    }
    out.failNext = failNext;
  }
  if (kind !== undefined) {
    if (typeof kind !== "string" || !(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new Error(`kind must be one of ${FAULT_KINDS.join(", ")}`);
    }
    out.kind = kind as FaultKind;
  }
  if (latencyMs !== undefined) {
    if (typeof latencyMs !== "number" || !(latencyMs >= 0 && latencyMs <= 60_000)) {
      throw new Error("latencyMs must be a number between 0 and 60000");
    }
    out.latencyMs = latencyMs;
  }
  return out;
}

interface ActiveFault {
  spec: FaultSpec;
  remaining: number;
  random: () => number;
}

export class FaultPlan {
  private readonly active = new Map<ExchangeEndpoint, ActiveFault>();

  constructor(private readonly seed: number) {}

  set(endpoint: ExchangeEndpoint, spec: FaultSpec): void {
    const valid = validateFaultSpec(spec as Record<string, unknown>);
    this.active.set(endpoint, {
      spec: valid,
      remaining: valid.failNext ?? 0,
      random: mulberry32((this.seed ^ fnv1a(endpoint)) >>> 0),
    });
  }

  clear(): void {
    this.active.clear();
  }

  /** Called once per incoming call to `endpoint`; consumes `failNext` and one PRNG draw. */
  decide(endpoint: ExchangeEndpoint): FaultDecision {
    const entry = this.active.get(endpoint);
    if (!entry) return { latencyMs: 0 };
    const latencyMs = entry.spec.latencyMs ?? 0;
    const kind = entry.spec.kind ?? "5xx";
    if (entry.remaining > 0) {
      entry.remaining -= 1;
      return { fault: kind, latencyMs };
    }
    const rate = entry.spec.errorRate ?? 0;
    if (rate > 0 && entry.random() < rate) return { fault: kind, latencyMs };
    return { latencyMs };
  }
}
