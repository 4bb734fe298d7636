import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { type ConsumerError, describeError } from "./errors.js";
import { type HeartbeatAnswer, heartbeatSender } from "./heartbeat-client.js";
import { type ConsumerOptions, resolveOptions, type SecretsManagerLike } from "./options.js";
import { backoffDelayMs, heartbeatDelayMs } from "./schedule.js";
import { type HeldSecret, SecretCache } from "./secret-cache.js";

/** Called with the new value when the held key changes (not on the first load). */
export type RotateListener = (
  value: string,
  change: { fingerprint: string; previousFingerprint: string },
) => void | Promise<void>;

export interface ConsumerStatus {
  secretId: string;
  instanceId: string;
  /** Fingerprint of the value held (never the value). */
  fingerprint: string | undefined;
  lastHeartbeat: { at: string; status: string; nextHeartbeatSeconds: number | undefined } | undefined;
  consecutiveErrors: number;
  lastError: ConsumerError | undefined;
  /** Heartbeats answered with 2xx. */
  heartbeats: number;
  /** Successful reads of Secrets Manager, the first load included. */
  refreshes: number;
  stopped: boolean;
}

export interface Consumer {
  /** The current key, cached; read again after the TTL. Rejects only if it was never loaded. */
  getSecret(): Promise<string>;
  /** Read Secrets Manager now, e.g. when the exchange rejects the key. Single-flight. */
  refreshNow(): Promise<string>;
  /** Heartbeat now (or join the one in flight); resolves when answered or failed, never rejects. */
  heartbeatNow(): Promise<void>;
  onRotate(listener: RotateListener): () => void;
  status(): ConsumerStatus;
  /** Stops heartbeating; resolves when work in flight has ended. */
  stop(): Promise<void>;
}

/** Without a `nextHeartbeatSeconds` in the answer (an older or foreign server), beat once a minute. */
const FALLBACK_INTERVAL_MS = 60_000;

/**
 * A keyshift consumer: holds the current exchange key and proves it to keyshift. Heartbeats start
 * with the first successful load, come back when the server says, and report a new fingerprint at
 * once; `stale`/`unknown` (or `refreshNow`) make it read Secrets Manager at once. Nothing here throws
 * into the caller except the very first load, and no secret value is logged or reported.
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  const o = resolveOptions(options);
  const credentials = options.credentials ?? defaultProvider();
  const ownClient = options.secretsManagerClient
    ? undefined
    : new SecretsManagerClient({ region: o.region, credentials, endpoint: options.secretsManagerEndpoint });
  const sm: SecretsManagerLike = options.secretsManagerClient ?? (ownClient as SecretsManagerClient);
  const send = heartbeatSender({
    endpoint: o.endpoint,
    region: o.region,
    service: o.signingService,
    credentials,
    fetchImpl: o.fetchImpl,
    timeoutMs: o.requestTimeoutMs,
  });
  const ids = { secretId: o.secretId, instanceId: o.instanceId };
  const listeners = new Set<RotateListener>();

  let stopped = false;
  let timer: unknown;
  let tickInFlight: Promise<void> | undefined;
  let reported: string | undefined;
  /** A 0 ("again at once") from the server was obeyed and no real interval came since. */
  let zeroHonoured = false;
  let heartbeats = 0;
  let consecutiveErrors = 0;
  let lastError: ConsumerError | undefined;
  let lastHeartbeat: ConsumerStatus["lastHeartbeat"];

  const recordError = (err: unknown, operation: ConsumerError["operation"]) => {
    consecutiveErrors += 1;
    lastError = describeError(err, operation, o.timers.now(), cache.current()?.value);
    o.logger.warn(`${operation} failed`, { ...ids, consecutiveErrors, error: lastError });
  };

  const cache = new SecretCache({
    read: async () => {
      const out = await sm.send(
        new GetSecretValueCommand({ SecretId: o.secretId, VersionStage: "AWSCURRENT" }),
      );
      if (typeof out.SecretString !== "string") {
        throw new Error(`${o.secretId} has no SecretString (keyshift secrets are JSON strings)`);
      }
      return out.SecretString;
    },
    now: o.timers.now,
    random: o.random,
    ttlMs: o.cacheTtlMs,
    maxBackoffMs: o.maxBackoffMs,
    onChange: (held, previous) => {
      if (previous !== undefined) {
        o.logger.info("key changed", {
          ...ids,
          fingerprint: held.fingerprint,
          previousFingerprint: previous,
        });
        notify(held, previous);
      }
      // Report a new fingerprint at once: the rotation waits on it. Inside a tick, the tick does it.
      if (!tickInFlight) schedule(0);
    },
    onError: (err) => recordError(err, "refresh"),
  });

  function notify(held: HeldSecret, previous: string): void {
    for (const listener of listeners) {
      const change = { fingerprint: held.fingerprint, previousFingerprint: previous };
      Promise.resolve()
        .then(() => listener(held.value, change))
        .catch((err: unknown) =>
          o.logger.error("onRotate listener failed", {
            ...ids,
            error: describeError(err, "refresh", o.timers.now(), held.value),
          }),
        );
    }
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    o.timers.clearTimeout(timer);
    timer = o.timers.setTimeout(() => void runTick(), delayMs);
  }

  function runTick(): Promise<void> {
    if (stopped) return Promise.resolve();
    tickInFlight ??= tick().finally(() => {
      tickInFlight = undefined;
    });
    return tickInFlight;
  }

  /** One heartbeat: read if due, report, act on the answer, schedule the next. Never throws. */
  async function tick(): Promise<void> {
    o.timers.clearTimeout(timer);
    let delay: number;
    try {
      if (cache.isDue()) await cache.refresh();
      const held = cache.current() as HeldSecret;
      const answer = await send({
        secretId: o.secretId,
        fingerprint: held.fingerprint,
        instanceId: o.instanceId,
      });
      reported = held.fingerprint;
      record(answer);
      delay = heartbeatDelayMs(answer.nextHeartbeatSeconds, {
        zeroHonoured,
        minMs: o.minIntervalMs,
        maxMs: o.maxIntervalMs,
        fallbackMs: FALLBACK_INTERVAL_MS,
        random: o.random(),
      });
      zeroHonoured = answer.nextHeartbeatSeconds === 0 ? zeroHonoured || delay === 0 : false;
      if (answer.refreshNow || answer.status === "stale" || answer.status === "unknown") {
        await cache.refresh();
      }
      // Held something newer than what the server just heard: tell it now, not one interval later.
      // (Bounded: the fingerprint changes only when the secret does.)
      if (cache.current()?.fingerprint !== reported) delay = 0;
    } catch (err) {
      if (!(err instanceof Error && err.name === "SecretUnavailableError")) recordError(err, "heartbeat");
      delay = backoffDelayMs(consecutiveErrors, { capMs: o.maxBackoffMs, random: o.random() });
    }
    schedule(delay);
  }

  function record(answer: HeartbeatAnswer): void {
    heartbeats += 1;
    consecutiveErrors = 0;
    lastHeartbeat = {
      at: new Date(o.timers.now()).toISOString(),
      status: answer.status,
      nextHeartbeatSeconds: answer.nextHeartbeatSeconds,
    };
    const fields = {
      ...ids,
      fingerprint: reported,
      status: answer.status,
      next: answer.nextHeartbeatSeconds,
    };
    if (answer.status === "unknown")
      o.logger.warn("keyshift does not know the key this process holds", fields);
    else o.logger.debug("heartbeat", fields);
  }

  return {
    getSecret: () => cache.get(),
    refreshNow: async () => (await cache.refresh()).value,
    heartbeatNow: () => runTick(),
    onRotate(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    status: () => ({
      ...ids,
      fingerprint: cache.current()?.fingerprint,
      lastHeartbeat: lastHeartbeat && { ...lastHeartbeat },
      consecutiveErrors,
      lastError: lastError && { ...lastError },
      heartbeats,
      refreshes: cache.reads,
      stopped,
    }),
    async stop() {
      stopped = true;
      o.timers.clearTimeout(timer);
      await tickInFlight;
      await cache.settled();
      ownClient?.destroy();
    },
  };
}
