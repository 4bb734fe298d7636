/**
 * The consumer SDK when things go wrong: backoff, a 403, a broken listener; stop; what it logs and
 * reports (never a value); bad options; and a process that never calls stop().
 */
import { spawn } from "node:child_process";
import { beforeEach, describe, expect, it } from "vitest";
import { ConsumerConfigError, type ConsumerOptions } from "../../packages/consumer/src";
import { fingerprint } from "../../src/core/fingerprint";
import { answer, consumerWorld, errorAnswer, KEY_A, KEY_B, settle } from "./support/consumer-fakes";

let timers: ReturnType<typeof consumerWorld>["timers"];
let sm: ReturnType<typeof consumerWorld>["sm"];
let api: ReturnType<typeof consumerWorld>["api"];
let logger: ReturnType<typeof consumerWorld>["logger"];
let consumer: ReturnType<typeof consumerWorld>["consumer"];

beforeEach(() => {
  ({ timers, sm, api, logger, consumer } = consumerWorld());
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
    let again = false;
    const stoppingAgain = c.stop().then(() => {
      again = true;
    });
    await settle();
    expect([stopped, again]).toEqual([false, false]);

    release?.();
    await Promise.all([beat, stopping, stoppingAgain]);
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
    [{ cacheTtlSeconds: -1 }, "cacheTtlSeconds must be a number from 0.1 to 604800 (seconds), got -1"],
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
