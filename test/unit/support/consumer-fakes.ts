import type { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import {
  type ConsumerLogger,
  type ConsumerOptions,
  type ConsumerTimers,
  createConsumer,
  type SecretsManagerLike,
} from "../../../packages/consumer/src";

export const KEY_A = JSON.stringify({ account: "acme", keyId: "k-a", secret: "sEcReT-AAAA-0123456789" });
export const KEY_B = JSON.stringify({ account: "acme", keyId: "k-b", secret: "sEcReT-BBBB-9876543210" });
const CREDS = { accessKeyId: "ASIATESTKEY", secretAccessKey: "test-secret-access-key", sessionToken: "tok" };

/** Lets every promise chain that can move, move (fetch fakes, signing, the cache) before time advances. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

/** A clock that moves only when the test says; timers fire in time order as it does. */
export class ManualTimers implements ConsumerTimers {
  private t = 1_800_000_000_000;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now = (): number => this.t;

  setTimeout = (fn: () => void, ms: number): unknown => {
    this.seq += 1;
    this.timers.set(this.seq, { at: this.t + ms, fn });
    return this.seq;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  pending(): number {
    return this.timers.size;
  }

  /** Moves the clock by `ms`, firing each due timer at its own time and letting its work settle. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (;;) {
      const due = [...this.timers]
        .filter(([, x]) => x.at <= end)
        .sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
      const first = due[0];
      if (!first) break;
      this.timers.delete(first[0]);
      this.t = Math.max(this.t, first[1].at);
      first[1].fn();
      await settle();
    }
    this.t = end;
  }
}

/** Deterministic [0, 1) draws (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Secrets Manager's AWSCURRENT, programmable: its value, failures, and reads held open. */
export class FakeSecretsManager implements SecretsManagerLike {
  value: string;
  reads: Array<{ at: number; secretId: string | undefined; stage: string | undefined }> = [];
  failWith?: Error;
  private gate?: Promise<void>;
  private openGate?: () => void;

  constructor(
    value: string,
    private readonly clock: { now(): number },
  ) {
    this.value = value;
  }

  /** Reads wait until `release()`. */
  hold(): void {
    this.gate = new Promise((r) => {
      this.openGate = r;
    });
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async send(command: GetSecretValueCommand) {
    this.reads.push({
      at: this.clock.now(),
      secretId: command.input.SecretId,
      stage: command.input.VersionStage,
    });
    await this.gate;
    if (this.failWith) throw this.failWith;
    return { SecretString: this.value, $metadata: {} };
  }
}

export interface SentHeartbeat {
  at: number;
  body: { secretId: string; fingerprint: string; instanceId: string };
  headers: Record<string, string>;
  url: string;
}

type Reply = (hb: SentHeartbeat) => Response | Promise<Response>;

/** The heartbeat endpoint, in process: records every request and answers with `reply`. */
export class FakeHeartbeatApi {
  sent: SentHeartbeat[] = [];
  reply: Reply = () => answer({ status: "current", nextHeartbeatSeconds: 30 });

  constructor(private readonly clock: { now(): number }) {}

  fetch = (async (url: string | URL | Request, init?: RequestInit) => {
    const hb: SentHeartbeat = {
      at: this.clock.now(),
      body: JSON.parse(String(init?.body)),
      headers: Object.fromEntries(
        new Headers(init?.headers as ConstructorParameters<typeof Headers>[0]).entries(),
      ),
      url: String(url),
    };
    this.sent.push(hb);
    return this.reply(hb);
  }) as typeof fetch;

  times(): number[] {
    return this.sent.map((s) => s.at);
  }
}

/** A keyshift answer; `extra` fields stand for what a newer server may add. */
export function answer(
  fields: { status: string; nextHeartbeatSeconds?: number; refreshNow?: boolean; [k: string]: unknown },
  httpStatus = 200,
): Response {
  const body = {
    consumerId: "trading-engine",
    refreshNow: fields.status !== "current",
    currentFingerprint: null,
    ...fields,
  };
  return new Response(JSON.stringify(body), {
    status: httpStatus,
    headers: { "content-type": "application/json" },
  });
}

export function errorAnswer(httpStatus: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status: httpStatus,
    headers: { "content-type": "application/json" },
  });
}

/** A logger that keeps every line with its fields, for the no-secret-value check. */
export function capturingLogger(): ConsumerLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** A consumer on a manual clock, an in-process Secrets Manager and heartbeat endpoint, and a capturing logger. */
export function consumerWorld() {
  const timers = new ManualTimers();
  const sm = new FakeSecretsManager(KEY_A, timers);
  const api = new FakeHeartbeatApi(timers);
  const logger = capturingLogger();
  const consumer = (overrides: Partial<ConsumerOptions> = {}) =>
    createConsumer({
      secretId: "keyshift/exchange/acme/trading",
      endpoint: "https://api.example.test/heartbeats",
      region: "eu-west-1",
      credentials: CREDS,
      instanceId: "engine-1",
      cacheTtlSeconds: 100,
      secretsManagerClient: sm,
      fetchImpl: api.fetch,
      logger,
      timers,
      random: seeded(1),
      ...overrides,
    });
  return { timers, sm, api, logger, consumer };
}
