import { SecretUnavailableError, secretsOf } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { backoffDelayMs, refreshAtMs } from "./schedule.js";

export interface HeldSecret {
  value: string;
  fingerprint: string;
  /** Read again at or after this time (jittered within the TTL; pushed out after a failed read). */
  refreshAt: number;
}

export interface SecretCacheDeps {
  /** Reads AWSCURRENT's SecretString; already bounded in time (and by `stop()`) by the caller. */
  read: () => Promise<string>;
  now: () => number;
  random: () => number;
  ttlMs: number;
  maxBackoffMs: number;
  /** The held fingerprint changed (`previous` is undefined on the first load). */
  onChange: (held: HeldSecret, previous: string | undefined) => void;
  onError: (err: unknown) => void;
}

/**
 * The process's one copy of the secret. Every read is single-flight: however many callers find the
 * value missing or due at once, Secrets Manager sees one GetSecretValue. Once a value is held the
 * hot path never waits for Secrets Manager: a due value is served while the one read runs in the
 * background (stale-while-revalidate, within the read's time bound). A failed read keeps serving
 * the held value and waits (backing off) before trying again.
 */
export class SecretCache {
  private held?: HeldSecret;
  private inFlight?: Promise<HeldSecret>;
  private failures = 0;
  /** What `describeError` masks: the values held now and just before, and the secrets inside them. */
  private masked: string[] = [];
  /** When the last read started (-Infinity before any): refreshes the server asks for are paced by it. */
  lastReadStartedAt = Number.NEGATIVE_INFINITY;
  /** Successful reads, the first load included. */
  reads = 0;

  constructor(private readonly deps: SecretCacheDeps) {}

  current(): HeldSecret | undefined {
    return this.held;
  }

  secrets(): readonly string[] {
    return this.masked;
  }

  isDue(): boolean {
    return !this.held || this.deps.now() >= this.held.refreshAt;
  }

  /**
   * The held value; a due one is served at once while a single read refreshes it. Waits only when
   * nothing is held yet, and rejects only then (`SecretUnavailableError`).
   */
  async get(): Promise<string> {
    if (!this.held) return (await this.refresh()).value;
    if (this.isDue()) this.refresh().catch(() => undefined);
    return this.held.value;
  }

  /** Reads now (joining a read in flight). Resolves with the held secret even if the read failed. */
  refresh(): Promise<HeldSecret> {
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Resolves when no read is in flight. */
  async settled(): Promise<void> {
    await this.inFlight?.catch(() => undefined);
  }

  private async read(): Promise<HeldSecret> {
    this.lastReadStartedAt = this.deps.now();
    let value: string;
    try {
      value = await this.deps.read();
    } catch (err) {
      return this.failed(err);
    }
    this.failures = 0;
    this.reads += 1;
    const previous = this.held;
    this.held = {
      value,
      fingerprint: fingerprint(value),
      refreshAt: refreshAtMs(this.deps.now(), this.deps.ttlMs, this.deps.random()),
    };
    if (this.held.fingerprint !== previous?.fingerprint) {
      this.masked = [...secretsOf(value), ...(previous ? secretsOf(previous.value) : [])];
      this.deps.onChange(this.held, previous?.fingerprint);
    }
    return this.held;
  }

  private failed(err: unknown): HeldSecret {
    this.failures += 1;
    this.deps.onError(err);
    if (!this.held) {
      throw new SecretUnavailableError(
        "could not read the secret from Secrets Manager and no value is cached yet; see status().lastError",
        { cause: err },
      );
    }
    const wait = backoffDelayMs(this.failures, { capMs: this.deps.maxBackoffMs, random: this.deps.random() });
    this.held.refreshAt = this.deps.now() + Math.min(this.deps.ttlMs, wait);
    return this.held;
  }
}
