/**
 * What this process did with the key, per UTC hour (keyshift issue 20): requests per endpoint class
 * and authentication failures, counted by the application's one-line hooks and sent on the
 * heartbeats it already makes — never a request of its own. keyshift reconciles them with what the
 * exchange saw, so activity nobody reports stands out.
 */

/** What a request did. A copy of keyshift's list (src/core/misuse/model.ts; the parity test keeps them equal). */
export const ENDPOINT_CLASSES = [
  "spot",
  "derivatives",
  "margin",
  "withdrawal",
  "transfer",
  "account",
  "market-data",
  "other",
] as const;
export type EndpointClass = (typeof ENDPOINT_CLASSES)[number];

/** Why the exchange refused a request; `ip-not-allowed`: the key's IP allow-list (a copy, as above). */
export const AUTH_FAILURE_KINDS = ["invalid-key", "ip-not-allowed", "permission-denied", "other"] as const;
export type AuthFailureKind = (typeof AUTH_FAILURE_KINDS)[number];

/** Hours one heartbeat carries (the server refuses more); older ones follow on the next heartbeats. */
export const MAX_HOURS_PER_HEARTBEAT = 4;
/** Hours kept while heartbeats fail: two days. Past that the oldest hour is dropped and counted. */
export const MAX_PENDING_HOURS = 48;
/** The server's bound on one count. */
const MAX_COUNT = 1_000_000_000;
const HOUR_MS = 3_600_000;

/** `usage` of a heartbeat body (docs/heartbeat-protocol.md). */
export interface UsageBody {
  hours: Array<{
    hour: string;
    fingerprint: string;
    requests?: Partial<Record<EndpointClass, number>>;
    authFailures?: Partial<Record<AuthFailureKind, number>>;
  }>;
}

export interface UsageStatus {
  /** False once the server refused a heartbeat for its usage (an older keyshift): counting stopped. */
  reporting: boolean;
  /** Hours counted and not yet acknowledged by a heartbeat. */
  pendingHours: number;
  /** Counts lost: past the pending bound, with no key held yet, or refused by the server. */
  dropped: number;
}

interface Hour {
  hour: number;
  fingerprint: string;
  requests: Partial<Record<EndpointClass, number>>;
  authFailures: Partial<Record<AuthFailureKind, number>>;
}

/**
 * The counts, bounded: at most `MAX_PENDING_HOURS` (hour, key) entries, the oldest dropped first.
 * A heartbeat takes the oldest few (`take`); answered, they are gone; failed, they are merged
 * back and go again, so a failed heartbeat loses nothing (a heartbeat whose answer is lost after
 * the server stored it is counted twice: at least once, never lost). Recording never throws: an
 * unknown class counts as `other`, a count that is not a positive whole number is ignored.
 */
export class UsageCounter {
  private readonly pending = new Map<string, Hour>();
  private inFlight: Hour[] | undefined;
  private dropped = 0;
  private reporting = true;

  constructor(
    private readonly deps: {
      now: () => number;
      /** The fingerprint of the key held now; undefined before the first load. */
      fingerprint: () => string | undefined;
    },
  ) {}

  recordRequest(endpointClass: EndpointClass, count = 1): void {
    const cls = (ENDPOINT_CLASSES as readonly string[]).includes(endpointClass) ? endpointClass : "other";
    this.add("requests", cls, count);
  }

  recordAuthFailure(kind: AuthFailureKind, count = 1): void {
    const k = (AUTH_FAILURE_KINDS as readonly string[]).includes(kind) ? kind : "other";
    this.add("authFailures", k, count);
  }

  /** The oldest hours for the next heartbeat, held until `settle`; undefined when there is nothing to send. */
  take(): UsageBody | undefined {
    if (!this.reporting || this.inFlight || this.pending.size === 0) return undefined;
    const oldest = [...this.pending.entries()]
      .sort(([, a], [, b]) => a.hour - b.hour || a.fingerprint.localeCompare(b.fingerprint))
      .slice(0, MAX_HOURS_PER_HEARTBEAT);
    for (const [key] of oldest) this.pending.delete(key);
    this.inFlight = oldest.map(([, h]) => h);
    return {
      hours: this.inFlight.map((h) => ({
        hour: new Date(h.hour * HOUR_MS).toISOString(),
        fingerprint: h.fingerprint,
        ...(Object.keys(h.requests).length ? { requests: { ...h.requests } } : {}),
        ...(Object.keys(h.authFailures).length ? { authFailures: { ...h.authFailures } } : {}),
      })),
    };
  }

  /**
   * What became of the hours taken: `stored` (answered 2xx), `failed` (anything else: merged back,
   * sent again), `refused` (the server answered 400 to a body with usage: an older keyshift, or
   * counts it cannot take — they are dropped and counting stops, so heartbeats keep working).
   */
  settle(outcome: "stored" | "failed" | "refused"): void {
    const taken = this.inFlight;
    this.inFlight = undefined;
    if (!taken) return;
    if (outcome === "failed") {
      for (const h of taken) this.merge(h);
    } else if (outcome === "refused") {
      this.reporting = false;
      for (const h of [...taken, ...this.pending.values()]) this.dropped += total(h);
      this.pending.clear();
    }
  }

  status(): UsageStatus {
    return {
      reporting: this.reporting,
      pendingHours: this.pending.size + (this.inFlight?.length ?? 0),
      dropped: this.dropped,
    };
  }

  private add(field: "requests" | "authFailures", name: string, count: number): void {
    if (!this.reporting || !Number.isInteger(count) || count <= 0) return;
    const fingerprint = this.deps.fingerprint();
    if (!fingerprint) {
      this.dropped += count;
      return;
    }
    const hour = Math.floor(this.deps.now() / HOUR_MS);
    this.merge({ hour, fingerprint, requests: {}, authFailures: {}, [field]: { [name]: count } });
  }

  private merge(h: Hour): void {
    const key = `${h.hour}#${h.fingerprint}`;
    let into = this.pending.get(key);
    if (!into) {
      into = { hour: h.hour, fingerprint: h.fingerprint, requests: {}, authFailures: {} };
      this.pending.set(key, into);
      this.evictBeyondBound();
      if (!this.pending.has(key)) {
        this.dropped += total(h);
        return;
      }
    }
    // Past the server's bound on one count the rest is dropped, and counted as such.
    this.dropped += addInto(into.requests, h.requests) + addInto(into.authFailures, h.authFailures);
  }

  private evictBeyondBound(): void {
    while (this.pending.size > MAX_PENDING_HOURS) {
      let oldestKey: string | undefined;
      let oldest: Hour | undefined;
      for (const [key, h] of this.pending) {
        if (!oldest || h.hour < oldest.hour) [oldestKey, oldest] = [key, h];
      }
      if (!oldestKey || !oldest) return;
      this.pending.delete(oldestKey);
      this.dropped += total(oldest);
    }
  }
}

/** Adds `from` into `into`, each count capped at the server's bound; returns what the cap cut off. */
function addInto<K extends string>(
  into: Partial<Record<K, number>>,
  from: Partial<Record<K, number>>,
): number {
  let cut = 0;
  for (const [k, n] of Object.entries(from) as [K, number][]) {
    const sum = (into[k] ?? 0) + n;
    into[k] = Math.min(sum, MAX_COUNT);
    cut += Math.max(0, sum - MAX_COUNT);
  }
  return cut;
}

function total(h: Hour): number {
  let n = 0;
  for (const v of Object.values(h.requests)) n += v ?? 0;
  for (const v of Object.values(h.authFailures)) n += v ?? 0;
  return n;
}
