/**
 * The consumer SDK on a manual clock: the cache (single-flight, jittered TTL, failures), the heartbeat
 * schedule the server sets, and what `stale` / `unknown` / `refreshNow` do. Failures, stop and secrecy
 * are in consumer-sdk-failures.test.ts.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { fingerprint } from "../../src/core/fingerprint";
import {
  answer,
  consumerWorld,
  FakeSecretsManager,
  KEY_A,
  KEY_B,
  seeded,
  settle,
} from "./support/consumer-fakes";

let timers: ReturnType<typeof consumerWorld>["timers"];
let sm: ReturnType<typeof consumerWorld>["sm"];
let api: ReturnType<typeof consumerWorld>["api"];
let consumer: ReturnType<typeof consumerWorld>["consumer"];

beforeEach(() => {
  ({ timers, sm, api, consumer } = consumerWorld());
});

describe("getSecret", () => {
  it("is single-flight: 100 concurrent callers cause one GetSecretValue, on load and once due", async () => {
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
    // Due: the held value is served at once while the one read runs (consumer-sdk-bounds.test.ts).
    expect(new Set(await Promise.all(second))).toEqual(new Set([KEY_A]));
    expect(sm.reads.length - readsBefore).toBeLessThanOrEqual(1);
    await settle();
    expect(await c.getSecret()).toBe(KEY_B);
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
    await settle();
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
    await c.getSecret();
    await settle();
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
  it("start with the first load, carry the held fingerprint, and are SigV4-signed for lambda (the function URL)", async () => {
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
      /^AWS4-HMAC-SHA256 Credential=ASIATESTKEY\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
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

  it("spread a fleet that started together: same interval asked, different arrival times", async () => {
    const fleet = Array.from({ length: 10 }, (_, i) =>
      consumer({ instanceId: `i-${i}`, random: seeded(i + 1) }),
    );
    await Promise.all(fleet.map((c) => c.heartbeatNow()));
    await timers.advance(30_000);

    const second = fleet.map((_, i) => api.sent.filter((s) => s.body.instanceId === `i-${i}`)[1]?.at ?? 0);
    const start = api.sent[0]?.at ?? 0;
    expect(second.every((t) => t - start > 27_000 && t - start <= 30_000)).toBe(true);
    expect(new Set(second).size).toBeGreaterThan(5);
    await Promise.all(fleet.map((c) => c.stop()));
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
