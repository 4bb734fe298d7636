import { SecretUnavailableError } from "./errors.js";
import { fingerprint } from "./fingerprint.js";
import { backoffDelayMs, refreshAtMs } from "./schedule.js";

export interface HeldSecret {
  value: string;
  fingerprint: string;
  /** Read again at or after this time (jittered within the TTL; pushed out after a failed read). */
  refreshAt: number;
}

export interface SecretCacheDeps {
  /** Reads AWSCURRENT's SecretString. */
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
 * value missing or expired at once, Secrets Manager sees one GetSecretValue, and they all get its
 * answer. A failed read keeps serving the held value and waits (backing off) before trying again,
 * so an outage of Secrets Manager costs the hot path nothing.
 */
export class SecretCache {
  private held?: HeldSecret;
  private inFlight?: Promise<HeldSecret>;
  private failures = 0;
  /** Successful reads, the first load included. */
  reads = 0;

  constructor(private readonly deps: SecretCacheDeps) {}

  current(): HeldSecret | undefined {
    return this.held;
  }

  isDue(): boolean {
    return !this.held || this.deps.now() >= this.held.refreshAt;
  }

  /** The held value, read first when none is held or it is due. Rejects only when nothing is held. */
  async get(): Promise<string> {
    if (this.held && !this.isDue()) return this.held.value;
    return (await this.refresh()).value;
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
    let value: string;
    try {
      value = await this.deps.read();
    } catch (err) {
      this.failures += 1;
      this.deps.onError(err);
      if (!this.held) {
        throw new SecretUnavailableError(
          "could not read the secret from Secrets Manager and no value is cached yet; see status().lastError",
          { cause: err },
        );
      }
      const wait = backoffDelayMs(this.failures, {
        capMs: this.deps.maxBackoffMs,
        random: this.deps.random(),
      });
      this.held.refreshAt = this.deps.now() + Math.min(this.deps.ttlMs, wait);
      return this.held;
    }
    this.failures = 0;
    this.reads += 1;
    const previous = this.held?.fingerprint;
    this.held = {
      value,
      fingerprint: fingerprint(value),
      refreshAt: refreshAtMs(this.deps.now(), this.deps.ttlMs, this.deps.random()),
    };
    if (this.held.fingerprint !== previous) this.deps.onChange(this.held, previous);
    return this.held;
  }
}
