import { spawn } from "node:child_process";
import { beforeEach, describe, expect, it } from "vitest";
import { ConsumerConfigError, type ConsumerOptions, createConsumer } from "../../src/consumer";
import { fingerprint } from "../../src/core/fingerprint";
import {
  answer,
  capturingLogger,
  errorAnswer,
  FakeHeartbeatApi,
  FakeSecretsManager,
  ManualTimers,
  seeded,
  settle,
} from "./support/consumer-fakes";

const KEY_A = JSON.stringify({ account: "acme", keyId: "k-a", secret: "sEcReT-AAAA-0123456789" });
const KEY_B = JSON.stringify({ account: "acme", keyId: "k-b", secret: "sEcReT-BBBB-9876543210" });
const CREDS = { accessKeyId: "ASIATESTKEY", secretAccessKey: "test-secret-access-key", sessionToken: "tok" };

let timers: ManualTimers;
let sm: FakeSecretsManager;
let api: FakeHeartbeatApi;
let logger: ReturnType<typeof capturingLogger>;

beforeEach(() => {
  timers = new ManualTimers();
  sm = new FakeSecretsManager(KEY_A, timers);
  api = new FakeHeartbeatApi(timers);
  logger = capturingLogger();
});

function consumer(overrides: Partial<ConsumerOptions> = {}) {
  return createConsumer({
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
}

describe("getSecret", () => {
  it("is single-flight: 100 concurrent callers cause one GetSecretValue, on load and on expiry", async () => {
    const c = consumer();
    sm.hold();
    const first = Array.from({ length: 100 }, () => c.getSecret());
    await settle();
    sm.release();
    expect(new Set(await Promise.all(first))).toEqual(new Set([KEY_A]));
    expect(sm.reads).toEqual([
      { at: expect.any(Number), secretId: "keyshift/exchange/acme/trading", stage: "AWSCURRENT" },
    ]);

    await timers.advance(101_000);
    const readsBefore = sm.reads.length;
    sm.value = KEY_B;
    sm.hold();
    const second = Array.from({ length: 100 }, () => c.getSecret());
    await settle();
    sm.release();
    expect(new Set(await Promise.all(second))).toEqual(new Set([KEY_B]));
    expect(sm.reads.length - readsBefore).toBeLessThanOrEqual(1);
    await c.stop();
  });

  it("spreads refreshes over the last fifth of the TTL, never past it", async () => {
    const readAt: number[] = [];
    for (let seed = 1; seed <= 20; seed++) {
      const local = new FakeSecretsManager(KEY_A, timers);
      const c = consumer({ secretsManagerClient: local, random: seeded(seed), instanceId: `i-${seed}` });
      const start = timers.now();
      await c.getSecret();
      while (local.reads.length < 2) {
        await timers.advance(500);
        await c.getSecret();
      }
      readAt.push((local.reads[1]?.at ?? 0) - start);
      await c.stop();
    }
    expect(Math.max(...readAt)).toBeLessThanOrEqual(100_500);
    expect(Math.min(...readAt)).toBeGreaterThanOrEqual(80_000);
    expect(new Set(readAt).size).toBeGreaterThan(10);
  });

  it("serves the cached value when a refresh fails, records the error, and retries later", async () => {
    const c = consumer();
    await c.getSecret();
    sm.failWith = new Error("ThrottlingException: Rate exceeded");
    await timers.advance(101_000);

    expect(await c.getSecret()).toBe(KEY_A);
    expect(c.status().lastError).toMatchObject({
      operation: "refresh",
      message: expect.stringContaining("Rate"),
    });
    const failedReads = sm.reads.length;
    expect(await c.getSecret()).toBe(KEY_A); // backing off: no second read at once
    expect(sm.reads.length).toBe(failedReads);

    sm.failWith = undefined;
    sm.value = KEY_B;
    await timers.advance(5_000);
    expect(await c.getSecret()).toBe(KEY_B);
    await c.stop();
  });

  it("rejects only the very first load, with SecretUnavailableError, and loads on a later call", async () => {
    const c = consumer();
    sm.failWith = new Error("ResourceNotFoundException: Secrets Manager can't find the specified secret.");

    await expect(c.getSecret()).rejects.toMatchObject({ name: "SecretUnavailableError" });
    expect(c.status().lastError).toMatchObject({ operation: "refresh", name: "Error" });

    sm.failWith = undefined;
    expect(await c.getSecret()).toBe(KEY_A);
    await c.stop();
  });
});

describe("heartbeats", () => {
  it("start with the first load, carry the held fingerprint, and are SigV4-signed for execute-api", async () => {
    const c = consumer();
    await c.getSecret();
    await timers.advance(0);

    expect(api.sent).toHaveLength(1);
    const [hb] = api.sent;
    expect(hb?.url).toBe("https://api.example.test/heartbeats");
    expect(hb?.body).toEqual({
      secretId: "keyshift/exchange/acme/trading",
      fingerprint: fingerprint(KEY_A),
      instanceId: "engine-1",
    });
    expect(hb?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIATESTKEY\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(hb?.headers["x-amz-security-token"]).toBe("tok");
    expect(hb?.headers["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/);
    await c.stop();
  });

  it("sign for the configured service (a function URL signs for lambda) and accept a credential provider", async () => {
    let calls = 0;
    const provider = async () => {
      calls += 1;
      return { accessKeyId: "ASIAFROMPROVIDER", secretAccessKey: "x" };
    };
    const c = consumer({ signingService: "lambda", credentials: provider });
    await c.heartbeatNow();

    expect(api.sent[0]?.headers.authorization).toContain("/eu-west-1/lambda/aws4_request");
    expect(api.sent[0]?.headers.authorization).toContain("Credential=ASIAFROMPROVIDER/");
    expect(calls).toBeGreaterThan(0);
    await c.stop();
  });

  it("come back when the server says, clamped to [min, max] and never later than asked", async () => {
    const intervals = [30, 7200, 5];
    let i = 0;
    api.reply = () =>
      answer({ status: "current", nextHeartbeatSeconds: intervals[i++] ?? 5, extra: { x: 1 } });
    const c = consumer();
    await c.heartbeatNow();
    await timers.advance(3_700_000);

    const [t0 = 0, t1 = 0, t2 = 0, t3 = 0] = api.times();
    expect(t1 - t0).toBeGreaterThan(27_000);
    expect(t1 - t0).toBeLessThanOrEqual(30_000);
    expect(t2 - t1).toBeGreaterThan(3_240_000); // 7200 s asked, 1 h ceiling, up to 10% early
    expect(t2 - t1).toBeLessThanOrEqual(3_600_000);
    expect(t3 - t2).toBeLessThanOrEqual(5_000);
    expect(c.status().lastHeartbeat).toMatchObject({ status: "current", nextHeartbeatSeconds: 5 });
    await c.stop();
  });

  it("honour 0 (again at once) once, then wait at least the floor", async () => {
    api.reply = () => answer({ status: "current", nextHeartbeatSeconds: 0 });
    const c = consumer();
    await c.heartbeatNow();
    await timers.advance(3_000);

    const [t0 = 0, t1 = 0, t2 = 0] = api.times();
    expect(t1 - t0).toBe(0);
    expect(t2 - t1).toBeGreaterThanOrEqual(900);
    expect(api.sent.length).toBeLessThanOrEqual(5);
    await c.stop();
  });
});

describe("stale and unknown", () => {
  it("stale: refreshes at once and reports the new fingerprint in an immediate second heartbeat", async () => {
    const rotated: Array<{ value: string; fingerprint: string; previousFingerprint: string }> = [];
    const c = consumer();
    c.onRotate((value, change) => {
      rotated.push({ value, ...change });
    });
    await c.getSecret();
    await timers.advance(0);
    sm.value = KEY_B;
    api.reply = (hb) =>
      answer({
        status: hb.body.fingerprint === fingerprint(KEY_B) ? "current" : "stale",
        nextHeartbeatSeconds: 30,
      });

    await timers.advance(30_000);

    const beats = api.sent.slice(1, 3);
    expect(beats.map((b) => b.body.fingerprint)).toEqual([fingerprint(KEY_A), fingerprint(KEY_B)]);
    expect(beats[1]?.at).toBe(beats[0]?.at);
    expect(await c.getSecret()).toBe(KEY_B);
    expect(rotated).toEqual([
      { value: KEY_B, fingerprint: fingerprint(KEY_B), previousFingerprint: fingerprint(KEY_A) },
    ]);
    expect(c.status()).toMatchObject({
      fingerprint: fingerprint(KEY_B),
      lastHeartbeat: { status: "current" },
    });
    await c.stop();
  });

  it("unknown: refreshes too; an unchanged value is not reported again at once (no busy loop)", async () => {
    api.reply = () => answer({ status: "unknown", nextHeartbeatSeconds: 10 });
    const c = consumer();
    await c.heartbeatNow();
    const reads = sm.reads.length;
    await timers.advance(25_000);

    expect(sm.reads.length).toBeGreaterThan(reads);
    const gaps = api
      .times()
      .slice(1)
      .map((t, i) => t - (api.times()[i] ?? 0));
    expect(gaps.every((g) => g >= 9_000)).toBe(true);
    await c.stop();
  });

  it("refreshNow (the exchange rejected the key) is single-flight and reports a change at once", async () => {
    const c = consumer();
    await c.heartbeatNow();
    sm.value = KEY_B;
    sm.hold();
    const calls = Array.from({ length: 10 }, () => c.refreshNow());
    await settle();
    sm.release();

    expect(new Set(await Promise.all(calls))).toEqual(new Set([KEY_B]));
    expect(sm.reads).toHaveLength(2);
    await timers.advance(0);
    expect(api.sent.map((s) => s.body.fingerprint)).toEqual([fingerprint(KEY_A), fingerprint(KEY_B)]);
    await c.stop();
  });
});

describe("errors", () => {
  it("back off exponentially with jitter, capped, and recover on the next answer", async () => {
    let fail = true;
    api.reply = () => {
      if (fail) throw new TypeError("fetch failed");
      return answer({ status: "current", nextHeartbeatSeconds: 30 });
    };
    const c = consumer({ maxBackoffSeconds: 16 });
    await c.heartbeatNow();
    await timers.advance(120_000);

    const times = api.times();
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    for (const [n, gap] of gaps.slice(0, 4).entries()) {
      expect(gap).toBeGreaterThanOrEqual(2 ** n * 500);
      expect(gap).toBeLessThanOrEqual(2 ** n * 1000);
    }
    expect(Math.max(...gaps)).toBeLessThanOrEqual(16_000);
    expect(gaps.slice(5).every((g) => g >= 8_000)).toBe(true);
    expect(c.status()).toMatchObject({ consecutiveErrors: times.length, heartbeats: 0 });

    fail = false;
    await timers.advance(16_000);
    expect(c.status()).toMatchObject({ consecutiveErrors: 0, heartbeats: 1 });
    await c.stop();
  });

  it("a 403 is reported in status with the server's message; nothing throws to the caller", async () => {
    api.reply = () =>
      errorAnswer(403, {
        error: "Forbidden",
        message: "principal arn:aws:iam::111122223333:role/x is not registered as a consumer of s",
      });
    const c = consumer();

    await expect(c.heartbeatNow()).resolves.toBeUndefined();
    expect(await c.getSecret()).toBe(KEY_A);
    expect(c.status().lastError).toEqual({
      at: expect.any(String),
      operation: "heartbeat",
      name: "HeartbeatRejectedError",
      httpStatus: 403,
      message: "HTTP 403: principal arn:aws:iam::111122223333:role/x is not registered as a consumer of s",
    });
    expect(c.status().lastHeartbeat).toBeUndefined();
    await c.stop();
  });

  it("a throwing onRotate listener is logged and does not stop the consumer", async () => {
    const c = consumer();
    c.onRotate(() => {
      throw new Error(`listener broke holding ${KEY_B}`);
    });
    await c.getSecret();
    sm.value = KEY_B;
    await c.refreshNow();
    await timers.advance(0);

    expect(logger.lines.some((l) => l.startsWith("error onRotate listener failed"))).toBe(true);
    expect(api.sent.at(-1)?.body.fingerprint).toBe(fingerprint(KEY_B));
    await c.stop();
  });
});

describe("stop, status, and secrecy", () => {
  it("stop waits for the heartbeat in flight, clears every timer, and sends nothing after", async () => {
    let release: (() => void) | undefined;
    api.reply = () =>
      new Promise((r) => {
        release = () => r(answer({ status: "current", nextHeartbeatSeconds: 1 }));
      });
    const c = consumer();
    const beat = c.heartbeatNow();
    await settle();
    let stopped = false;
    const stopping = c.stop().then(() => {
      stopped = true;
    });
    await settle();
    expect(stopped).toBe(false);

    release?.();
    await Promise.all([beat, stopping]);
    expect(timers.pending()).toBe(0);
    await timers.advance(60_000);
    expect(api.sent).toHaveLength(1);
    expect(c.status().stopped).toBe(true);
  });

  it("no value or part of one in any log line or in status, whatever happened", async () => {
    const c = consumer();
    c.onRotate(() => {
      throw new Error(`bad listener: ${KEY_B}`);
    });
    await c.getSecret();
    api.reply = () => answer({ status: "unknown", nextHeartbeatSeconds: 1 });
    await timers.advance(2_000);
    sm.value = KEY_B;
    await c.refreshNow();
    api.reply = () => errorAnswer(500, { message: `oops ${KEY_B}` });
    await timers.advance(10_000);
    sm.failWith = new Error(`boom near ${KEY_B}`);
    await c.refreshNow();

    const seen = [...logger.lines, JSON.stringify(c.status())].join("\n");
    expect(logger.lines.length).toBeGreaterThan(3);
    for (const value of [KEY_A, KEY_B]) {
      const { secret } = JSON.parse(value) as { secret: string };
      expect(seen).not.toContain(value);
      expect(seen).not.toContain(secret);
    }
    expect(seen).toContain(fingerprint(KEY_B));
    await c.stop();
  });

  it("a value the scrubber cannot recognise is masked all the same", async () => {
    const plain = "plain-api-token-7f3a9c2e";
    sm.value = plain;
    const c = consumer();
    await c.getSecret();
    api.reply = () => errorAnswer(400, { message: `echoing ${plain}` });
    await c.heartbeatNow();

    expect(c.status().lastError?.message).toBe("HTTP 400: echoing ***");
    expect(logger.lines.join("\n")).not.toContain(plain);
    await c.stop();
  });
});

describe("options", () => {
  it.each([
    [{ secretId: "arn:aws:secretsmanager:x" }, "secretId"],
    [{ endpoint: "api.example.test/heartbeats" }, "endpoint must be the full http(s) URL"],
    [{ region: "Europe" }, "region must be an AWS region"],
    [{ instanceId: "has space" }, "instanceId must be 1-128 characters"],
    [{ cacheTtlSeconds: -1 }, "cacheTtlSeconds must be a number of seconds"],
    [{ signingService: "Execute API" }, "signingService"],
  ])("reject %o with a message naming it", (bad, message) => {
    expect(() => consumer(bad as Partial<ConsumerOptions>)).toThrow(ConsumerConfigError);
    expect(() => consumer(bad as Partial<ConsumerOptions>)).toThrow(message);
  });

  it("a generated instanceId is valid for the endpoint", () => {
    const c = consumer({ instanceId: undefined });
    expect(c.status().instanceId).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });
});

describe("process lifetime", () => {
  it("no SDK timer keeps the process alive: a process that never calls stop() still exits", async () => {
    const started = Date.now();
    const run = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [
        "--import",
        "tsx",
        "test/fixtures/consumer/exits-on-its-own.ts",
      ]);
      let stdout = "";
      child.stdout.on("data", (d) => (stdout += d));
      const kill = setTimeout(() => child.kill(), 20_000);
      child.on("close", (code) => {
        clearTimeout(kill);
        resolve({ code, stdout });
      });
    });

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      heartbeats: 1,
      lastHeartbeat: { nextHeartbeatSeconds: 300 },
    });
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
