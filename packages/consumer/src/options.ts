import { hostname } from "node:os";
import type { GetSecretValueCommand, GetSecretValueCommandOutput } from "@aws-sdk/client-secrets-manager";
import { nodeTimers } from "./timers.js";

/** AWS credentials, static. Structural, so the SDK's public types need no `@smithy/*` package. */
export interface ConsumerCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** A credential provider, e.g. `fromTemporaryCredentials(...)`; it should cache (AWS's providers do). */
export type ConsumerCredentialsProvider = () => Promise<ConsumerCredentials>;

/** What the SDK needs of a Secrets Manager client: a `SecretsManagerClient` fits. */
export interface SecretsManagerLike {
  /** The SDK passes an `abortSignal` and abandons a read past `requestTimeoutMs` even if it is ignored. */
  send(
    command: GetSecretValueCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<GetSecretValueCommandOutput>;
}

/** Structured logging; Powertools' Logger and `console` both fit. Fields carry ids and fingerprints only. */
export interface ConsumerLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The clock and timers the SDK runs on; injected by tests so every schedule is deterministic. */
export interface ConsumerTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ConsumerOptions {
  /** The Secrets Manager secret holding the exchange key: its name, as enrolled in keyshift. */
  secretId: string;
  /** Full URL of the heartbeat route: the stack output `HeartbeatLambdaFunctionUrl` + `heartbeats` (`https://<url-id>.lambda-url.<region>.on.aws/heartbeats`). */
  endpoint: string;
  region: string;
  /** Default: the AWS default credential chain (env, SSO, web identity/IRSA, ECS, instance profile). */
  credentials?: ConsumerCredentials | ConsumerCredentialsProvider;
  /** SigV4 service of the heartbeat front door: `lambda` (keyshift's function URL, the default), `execute-api` behind an API Gateway. */
  signingService?: string;
  /** This process's id in heartbeats (1-128 of A-Z a-z 0-9 . _ : -). Default: host, pid and a random tag. */
  instanceId?: string;
  /** Longest time a value is served before Secrets Manager is read again, 0.1-604800 (fractions allowed). Default 300. */
  cacheTtlSeconds?: number;
  /** Floor for the server's interval once an "at once" was honoured, and for refreshes the server asks for; 0.1-3600. Default 1. */
  minHeartbeatIntervalSeconds?: number;
  /** Ceiling for the server's interval, 0.1-86400. Default 3600. */
  maxHeartbeatIntervalSeconds?: number;
  /** Ceiling of the exponential backoff after failed heartbeats or reads, 0.1-3600. Default 60. */
  maxBackoffSeconds?: number;
  /** Bound of each heartbeat and each Secrets Manager read, 100-60000. Default 5000. */
  requestTimeoutMs?: number;
  /** Secrets Manager endpoint override (the local stack); `AWS_ENDPOINT_URL_SECRETS_MANAGER` works too. */
  secretsManagerEndpoint?: string;
  /** Bring your own client (its credentials and endpoint then apply); `stop()` leaves it open. */
  secretsManagerClient?: SecretsManagerLike;
  fetchImpl?: typeof fetch;
  logger?: ConsumerLogger;
  timers?: ConsumerTimers;
  /** Source of jitter in [0, 1). */
  random?: () => number;
}

export interface ResolvedOptions {
  secretId: string;
  endpoint: URL;
  region: string;
  signingService: string;
  instanceId: string;
  cacheTtlMs: number;
  minIntervalMs: number;
  maxIntervalMs: number;
  maxBackoffMs: number;
  requestTimeoutMs: number;
  fetchImpl: typeof fetch;
  logger: ConsumerLogger;
  timers: ConsumerTimers;
  random: () => number;
}

/** Bad options to `createConsumer`: the message names the option and the fix. */
export class ConsumerConfigError extends Error {
  override name = "ConsumerConfigError";
}

/**
 * [min, max, default, unit] of each number. Every timer the SDK sets comes from these (or from the
 * server's answer, clamped to them), so all stay far below Node's 2^31 ms limit (24.8 days), past
 * which a timer fires at once; and a request bound above a minute only hides a dead endpoint.
 */
const RANGES = {
  cacheTtlSeconds: [0.1, 604_800, 300, "seconds"],
  minHeartbeatIntervalSeconds: [0.1, 3_600, 1, "seconds"],
  maxHeartbeatIntervalSeconds: [0.1, 86_400, 3_600, "seconds"],
  maxBackoffSeconds: [0.1, 3_600, 60, "seconds"],
  requestTimeoutMs: [100, 60_000, 5_000, "milliseconds"],
} as const;

// The same rules the heartbeat endpoint applies (src/commons/schemas.ts), checked here so a typo fails
// at start-up with a clear message instead of as a 400 on every heartbeat.
export const SECRET_ID = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const INSTANCE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function resolveOptions(opts: ConsumerOptions): ResolvedOptions {
  const fail = (message: string): never => {
    throw new ConsumerConfigError(`createConsumer: ${message}`);
  };
  if (typeof opts.secretId !== "string" || !SECRET_ID.test(opts.secretId)) {
    fail(
      "secretId must be the secret's name as enrolled in keyshift (1-512 of A-Z a-z 0-9 / _ + = . @ -, not an ARN), e.g. keyshift/exchange/acme/trading",
    );
  }
  let endpoint: URL | undefined;
  try {
    endpoint = new URL(opts.endpoint);
  } catch {
    // reported below
  }
  if (!endpoint || (endpoint.protocol !== "https:" && endpoint.protocol !== "http:")) {
    return fail(
      "endpoint must be the full http(s) URL of the heartbeat route, e.g. https://<url-id>.lambda-url.<region>.on.aws/heartbeats",
    );
  }
  if (typeof opts.region !== "string" || !REGION.test(opts.region)) {
    fail(`region must be an AWS region such as eu-west-1, got ${JSON.stringify(opts.region)}`);
  }
  const instanceId = opts.instanceId ?? defaultInstanceId();
  if (!INSTANCE_ID.test(instanceId)) {
    fail("instanceId must be 1-128 characters of A-Z a-z 0-9 . _ : - (or leave it out for a generated one)");
  }
  const number = (name: keyof typeof RANGES, scale: number): number => {
    const [min, max, fallback, unit] = RANGES[name];
    const value = opts[name] ?? fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
      fail(`${name} must be a number from ${min} to ${max} (${unit}), got ${JSON.stringify(value)}`);
    }
    return (value as number) * scale;
  };
  const cacheTtlMs = number("cacheTtlSeconds", 1000);
  const maxIntervalMs = number("maxHeartbeatIntervalSeconds", 1000);
  // A ceiling below the default floor lowers the floor (a test fleet that beats every 250 ms).
  const minIntervalMs = Math.min(number("minHeartbeatIntervalSeconds", 1000), maxIntervalMs);
  const maxBackoffMs = number("maxBackoffSeconds", 1000);
  const requestTimeoutMs = number("requestTimeoutMs", 1);
  const signingService = opts.signingService ?? "lambda";
  if (!/^[a-z0-9-]+$/.test(signingService)) {
    fail('signingService must be a SigV4 service name such as "execute-api" or "lambda"');
  }
  return {
    secretId: opts.secretId,
    endpoint,
    region: opts.region,
    signingService,
    instanceId,
    cacheTtlMs,
    minIntervalMs,
    maxIntervalMs,
    maxBackoffMs,
    requestTimeoutMs,
    fetchImpl: opts.fetchImpl ?? fetch,
    logger: opts.logger ?? consoleLogger,
    timers: opts.timers ?? nodeTimers,
    random: opts.random ?? Math.random,
  };
}

/** `<host>-<pid>-<tag>`: unique per process, readable in `keyshift status`. */
function defaultInstanceId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]/g, "-")
      .slice(0, 96) || "host";
  const tag = Math.floor(Math.random() * 0x10000)
    .toString(16)
    .padStart(4, "0");
  return `${host}-${process.pid}-${tag}`;
}

/** Warnings and errors reach stderr by default; a library that fails silently is worse than a noisy one. */
const consoleLogger: ConsumerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message, fields) => console.warn(`keyshift: ${message}`, fields ?? {}),
  error: (message, fields) => console.error(`keyshift: ${message}`, fields ?? {}),
};
