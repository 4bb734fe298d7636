import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { heartbeatSender } from "./heartbeat-client.js";
import { HeartbeatLoop } from "./heartbeat-loop.js";
import {
  type ConsumerOptions,
  type ResolvedOptions,
  resolveOptions,
  type SecretsManagerLike,
} from "./options.js";
import { type HeldSecret, SecretCache } from "./secret-cache.js";
import { ConsumerRecord, type ConsumerStatus } from "./status.js";
import { bounded } from "./timers.js";
import { type AuthFailureKind, type EndpointClass, UsageCounter } from "./usage.js";
import { type UsageClassifier, usageFetch } from "./usage-fetch.js";

/** Called with the new value when the held key changes (not on the first load). */
export type RotateListener = (
  value: string,
  change: { fingerprint: string; previousFingerprint: string },
) => void | Promise<void>;

export interface Consumer {
  /** The current key, cached; once due, served while one read refreshes it. Rejects only if never loaded. */
  getSecret(): Promise<string>;
  /** Read Secrets Manager now, e.g. when the exchange rejects the key. Single-flight. */
  refreshNow(): Promise<string>;
  /** Heartbeat now (or join the one in flight); resolves when answered or failed, never rejects. */
  heartbeatNow(): Promise<void>;
  onRotate(listener: RotateListener): () => void;
  /**
   * Count one request (or `count`) to the exchange under its endpoint class, for the key held now.
   * The counts ride on the next heartbeats; keyshift reconciles them with what the exchange saw.
   * Cheap and synchronous; never throws.
   */
  recordUsage(endpointClass: EndpointClass, count?: number): void;
  /** Count an authentication failure the exchange answered, e.g. `ip-not-allowed`. Never throws. */
  recordAuthFailure(kind: AuthFailureKind, count?: number): void;
  /** A fetch that counts its exchange requests and auth failures itself (see `UsageClassifier`). */
  wrapFetch<F extends (input: string | URL | Request, init?: RequestInit) => Promise<Response>>(
    fetchImpl: F,
    how: UsageClassifier,
  ): F;
  status(): ConsumerStatus;
  /** Stops heartbeating; resolves when work in flight has ended (each within `requestTimeoutMs`). */
  stop(): Promise<void>;
}

/**
 * A keyshift consumer: holds the current exchange key and proves it to keyshift. Heartbeats start
 * with the first successful load, come back when the server says, and report a new fingerprint at
 * once; `stale`/`unknown` (or `refreshNow`) make it read Secrets Manager. Nothing here throws into
 * the caller except the very first load, every read and heartbeat is bounded in time, and no secret
 * value is logged or reported. The parts: `SecretCache` (the value), `HeartbeatLoop` (the
 * schedule, an explicit state machine), `ConsumerRecord` (what `status()` says).
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  const o = resolveOptions(options);
  const credentials = options.credentials ?? defaultProvider();
  const ownClient = options.secretsManagerClient
    ? undefined
    : new SecretsManagerClient({ region: o.region, credentials, endpoint: options.secretsManagerEndpoint });
  const sm: SecretsManagerLike = options.secretsManagerClient ?? (ownClient as SecretsManagerClient);
  const send = heartbeatSender({ ...o, service: o.signingService, credentials });
  const listeners = new Set<RotateListener>();
  const record = new ConsumerRecord({
    ids: { secretId: o.secretId, instanceId: o.instanceId },
    logger: o.logger,
    now: o.timers.now,
    secrets: () => cache.secrets(),
  });
  const cache = new SecretCache({
    read: () => bounded((signal) => readCurrent(sm, o.secretId, signal), limit(o, "GetSecretValue")),
    now: o.timers.now,
    random: o.random,
    ttlMs: o.cacheTtlMs,
    maxBackoffMs: o.maxBackoffMs,
    onChange: (held, previous) => {
      if (previous !== undefined) changed(held, previous);
      loop.wake();
    },
    onError: (err) => record.failed(err, "refresh"),
  });
  const usage = new UsageCounter({ now: o.timers.now, fingerprint: () => cache.current()?.fingerprint });
  const loop = new HeartbeatLoop({
    options: o,
    cache,
    record,
    usage,
    send: (body) => bounded((signal) => send(body, signal), limit(o, "heartbeat")),
  });

  function changed(held: HeldSecret, previous: string): void {
    const change = { fingerprint: held.fingerprint, previousFingerprint: previous };
    o.logger.info("key changed", { secretId: o.secretId, instanceId: o.instanceId, ...change });
    for (const listener of listeners) {
      Promise.resolve()
        .then(() => listener(held.value, change))
        .catch((err: unknown) =>
          o.logger.error("onRotate listener failed", {
            secretId: o.secretId,
            instanceId: o.instanceId,
            error: record.describe(err, "refresh"),
          }),
        );
    }
  }

  return {
    getSecret: () => cache.get(),
    refreshNow: async () => (await cache.refresh()).value,
    heartbeatNow: () => loop.beatNow(),
    onRotate(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    recordUsage: (endpointClass, count = 1) => usage.recordRequest(endpointClass, count),
    recordAuthFailure: (kind, count = 1) => usage.recordAuthFailure(kind, count),
    wrapFetch: (fetchImpl, how) => usageFetch(fetchImpl, usage, how),
    status: () => ({
      ...record.snapshot({
        fingerprint: cache.current()?.fingerprint,
        refreshes: cache.reads,
        stopped: loop.stopped,
      }),
      usage: usage.status(),
    }),
    async stop() {
      await loop.stop();
      await cache.settled();
      ownClient?.destroy();
    },
  };
}

function limit(o: ResolvedOptions, what: string) {
  return { what, ms: o.requestTimeoutMs, timers: o.timers };
}

async function readCurrent(
  sm: SecretsManagerLike,
  secretId: string,
  abortSignal: AbortSignal,
): Promise<string> {
  const out = await sm.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: "AWSCURRENT" }), {
    abortSignal,
  });
  if (typeof out.SecretString !== "string") {
    throw new Error(`${secretId} has no SecretString (keyshift secrets are JSON strings)`);
  }
  return out.SecretString;
}
