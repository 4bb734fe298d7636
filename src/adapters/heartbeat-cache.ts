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

  /**
   * The cached value while valid and (with `minAgeToReread`) younger than that; else undefined.
   * Callers build their read only on a miss: a hit, the steady state, allocates nothing.
   */
  hit(key: string, now: number, minAgeToReread = Number.POSITIVE_INFINITY): Promise<T> | undefined {
    const hit = this.entries.get(key);
    if (hit && now < hit.validUntil && now - hit.readAt < minAgeToReread) return hit.value;
    return undefined;
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
  private readonly cache = new TtlCache<SecretState>();

  constructor(
    private readonly inner: Pick<RotationStore, "getSecretState">,
    private readonly clock: Clock,
    private readonly ttlMs = SECRET_STATE_TTL_MS,
  ) {}

  /** `fresh` reads through and refreshes the entry: the next heartbeats see what it saw. */
  getSecretState(secretId: string, opts?: { fresh?: boolean }): Promise<SecretState> {
    const now = this.clock.now().getTime();
    return (
      (opts?.fresh ? undefined : this.cache.hit(secretId, now)) ??
      this.cache.put(secretId, this.inner.getSecretState(secretId, opts ?? {}), this.ttlOf, now)
    );
  }

  private readonly ttlOf = (state: SecretState, now: number): number => {
    const schedule = state.settings?.schedule;
    if (!schedule) return this.ttlMs;
    const anchor = state.settings?.enrolledAt ? new Date(state.settings.enrolledAt) : undefined;
    const next = nextScheduledStart(schedule, new Date(now), anchor);
    return next ? Math.max(0, Math.min(this.ttlMs, next.getTime() - now)) : this.ttlMs;
  };
}

/** The registrations-by-principal read of the heartbeat, cached per container. */
export class CachedRegistrations implements Pick<ConsumerRegistry, "listByPrincipal"> {
  private readonly cache = new TtlCache<ConsumerRegistration[]>();

  constructor(
    private readonly inner: Pick<ConsumerRegistry, "listByPrincipal">,
    private readonly clock: Clock,
    private readonly ttlMs = REGISTRATIONS_TTL_MS,
    private readonly recheckMs = REGISTRATIONS_RECHECK_MS,
  ) {}

  listByPrincipal(principalArn: string, opts?: { recheck?: boolean }): Promise<ConsumerRegistration[]> {
    const now = this.clock.now().getTime();
    return (
      this.cache.hit(principalArn, now, opts?.recheck ? this.recheckMs : undefined) ??
      this.cache.put(principalArn, this.inner.listByPrincipal(principalArn), this.ttl, now)
    );
  }

  private readonly ttl = () => this.ttlMs;
}
