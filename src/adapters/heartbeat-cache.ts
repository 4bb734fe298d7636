import type { ConsumerRegistration, SecretState } from "../core/model";
import type { Clock, ConsumerRegistry, RotationStore } from "../core/ports";
import { nextScheduledStart } from "../core/schedule";

/**
 * How long a container keeps what the heartbeat reads, and why that is safe for the gate:
 * - Secret state (settings, versions, lock), 2 s. The instance row always records the fingerprint
 *   the instance reported, and the gate reads rows and versions itself, never this cache; the cache
 *   only shapes the answer. For at most 2 s after a promotion an instance on the old key may hear
 *   `current` — it stays on the old fingerprint in its row, so the gate waits for it, and it hears
 *   `stale` one interval later. A change of fingerprint is classified from a consistent read. An
 *   entry never outlives the next scheduled start, so a fleet brought back for it sees the lock.
 * - Registrations by principal, 30 s. Who may report: the gate reads the registrations itself, so
 *   a stale entry only lets a principal write its own row a little longer. A heartbeat naming a
 *   secret the entry lacks re-reads it once it is a second old, so a consumer just registered is
 *   heard within a second, and a caller naming secrets it has no registration for costs at most
 *   one index read a second per container.
 */
export const SECRET_STATE_TTL_MS = 2_000;
export const REGISTRATIONS_TTL_MS = 30_000;
export const REGISTRATIONS_RECHECK_MS = 1_000;
/** Entries per cache; the oldest goes first, so a flood of principals or secret ids cannot grow it. */
const MAX_ENTRIES = 10_000;

interface Entry<T> {
  value: Promise<T>;
  readAt: number;
  validUntil: number;
}

/** A bounded map of promises: concurrent callers share one read (single flight). */
class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly clock: Clock) {}

  /** The cached value while valid and (with `minAgeToReread`) younger than that; else a new read. */
  get(
    key: string,
    read: () => Promise<T>,
    ttl: (value: T, now: number) => number,
    minAgeToReread = Number.POSITIVE_INFINITY,
  ): Promise<T> {
    const now = this.clock.now().getTime();
    const hit = this.entries.get(key);
    if (hit && now < hit.validUntil && now - hit.readAt < minAgeToReread) return hit.value;
    return this.put(key, read(), ttl, now);
  }

  put(key: string, value: Promise<T>, ttl: (value: T, now: number) => number, now: number): Promise<T> {
    const entry: Entry<T> = { value, readAt: now, validUntil: Number.POSITIVE_INFINITY };
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    value.then(
      (v) => {
        entry.validUntil = now + ttl(v, now);
      },
      // A failed read is not remembered: the next caller reads again.
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return value;
  }
}

/** The secret-state read of the heartbeat, cached per container (see `SECRET_STATE_TTL_MS`). */
export class CachedSecretState implements Pick<RotationStore, "getSecretState"> {
  private readonly cache: TtlCache<SecretState>;

  constructor(
    private readonly inner: Pick<RotationStore, "getSecretState">,
    private readonly clock: Clock,
    private readonly ttlMs = SECRET_STATE_TTL_MS,
  ) {
    this.cache = new TtlCache(clock);
  }

  /** `fresh` reads through and refreshes the entry: the next heartbeats see what it saw. */
  getSecretState(secretId: string, opts: { fresh?: boolean } = {}): Promise<SecretState> {
    const read = () => this.inner.getSecretState(secretId, opts);
    const ttl = (v: SecretState, now: number) => this.ttlOf(v, now);
    if (opts.fresh) return this.cache.put(secretId, read(), ttl, this.clock.now().getTime());
    return this.cache.get(secretId, read, ttl);
  }

  private ttlOf(state: SecretState, now: number): number {
    const schedule = state.settings?.schedule;
    if (!schedule) return this.ttlMs;
    const anchor = state.settings?.enrolledAt ? new Date(state.settings.enrolledAt) : undefined;
    const next = nextScheduledStart(schedule, new Date(now), anchor);
    return next ? Math.max(0, Math.min(this.ttlMs, next.getTime() - now)) : this.ttlMs;
  }
}

/** The registrations-by-principal read of the heartbeat, cached per container. */
export class CachedRegistrations implements Pick<ConsumerRegistry, "listByPrincipal"> {
  private readonly cache: TtlCache<ConsumerRegistration[]>;

  constructor(
    private readonly inner: Pick<ConsumerRegistry, "listByPrincipal">,
    clock: Clock,
    private readonly ttlMs = REGISTRATIONS_TTL_MS,
    private readonly recheckMs = REGISTRATIONS_RECHECK_MS,
  ) {
    this.cache = new TtlCache(clock);
  }

  listByPrincipal(principalArn: string, opts: { recheck?: boolean } = {}): Promise<ConsumerRegistration[]> {
    return this.cache.get(
      principalArn,
      () => this.inner.listByPrincipal(principalArn),
      () => this.ttlMs,
      opts.recheck ? this.recheckMs : undefined,
    );
  }
}
