/**
 * What fuzzing found in the consumer SDK, each pinned: a due cache never makes `getSecret()` wait for
 * Secrets Manager, and no read or heartbeat outlives its bound or `stop()`; timers cannot overflow;
 * a server answering `stale`/0 while Secrets Manager flaps cannot make a busy loop; a redirect is
 * never followed; a secret echoed by a server never reaches `status()`; every option has a range.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConsumerConfigError, type ConsumerOptions } from "../../packages/consumer/src";
import { answer, consumerWorld, errorAnswer, KEY_A, KEY_B, settle } from "./support/consumer-fakes";

let world: ReturnType<typeof consumerWorld>;
beforeEach(() => {
  world = consumerWorld();
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Whether `p` has settled once everything that can move has moved (no time passes). */
async function settledNow(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return done;
}

describe("a due cache and a slow or silent Secrets Manager", () => {
  it("getSecret serves the cached value at once while one refresh runs, then the new one", async () => {
    const { timers, sm } = world;
    const c = world.consumer();
    await c.getSecret();
    sm.value = KEY_B;
    sm.hold();
    await timers.advance(101_000);
    const readsBefore = sm.reads.length;

    const calls = Array.from({ length: 100 }, () => c.getSecret());
    expect(await settledNow(Promise.all(calls))).toBe(true);
    expect(new Set(await Promise.all(calls))).toEqual(new Set([KEY_A]));
    expect(sm.reads.length - readsBefore).toBeLessThanOrEqual(1);

    sm.release();
    await settle();
    expect(await c.getSecret()).toBe(KEY_B);
    await c.stop();
  });

  it("a read that never answers is abandoned after requestTimeoutMs; stop() returns at once", async () => {
    const { timers, sm } = world;
    const c = world.consumer({ requestTimeoutMs: 2_000 });
    await c.getSecret();
    sm.hold(); // never released
    await timers.advance(101_000);

    expect(await c.getSecret()).toBe(KEY_A);
    await timers.advance(2_000);
    expect(c.status().lastError).toMatchObject({
      operation: "refresh",
      message: expect.stringMatching(/2000 ms/),
    });
    expect(await settledNow(c.stop())).toBe(true);
  });

  it("the very first load gives up after requestTimeoutMs when Secrets Manager never answers", async () => {
    const { timers, sm } = world;
    sm.hold();
    const c = world.consumer({ requestTimeoutMs: 2_000 });
    const first = c.getSecret();
    first.catch(() => undefined);
    await timers.advance(2_000);

    await expect(first).rejects.toMatchObject({ name: "SecretUnavailableError" });
    expect(await settledNow(c.stop())).toBe(true);
  });

  it("with its own client and an endpoint that stops answering: getSecret and stop() both return", async () => {
    const endpoint = await serve(() => undefined); // accepts, never answers
    const c = world.consumer({
      secretsManagerClient: undefined,
      secretsManagerEndpoint: endpoint,
      timers: undefined,
      requestTimeoutMs: 300,
    });
    const started = Date.now();
    const outcome = await Promise.race([
      c.getSecret().then(
        () => "loaded",
        (err: Error) => err.name,
      ),
      new Promise((r) => setTimeout(() => r("still waiting after 3 s"), 3_000)),
    ]);
    expect(outcome).toBe("SecretUnavailableError");
    expect(Date.now() - started).toBeLessThan(2_000);
    const stopped = await Promise.race([
      c.stop().then(() => "stopped"),
      new Promise((r) => setTimeout(() => r("stop() still waiting after 1 s"), 1_000)),
    ]);
    expect(stopped).toBe("stopped");
  });
});

describe("timers and refreshes stay bounded", () => {
  it("a server answering stale/0 while Secrets Manager flaps: about one heartbeat and one read a second", async () => {
    const { timers, sm, api } = world;
    const values = [KEY_A, KEY_B];
    let reads = 0;
    const flapping = {
      send: async (command: Parameters<typeof sm.send>[0]) => {
        reads += 1;
        sm.value = values[reads % 2] ?? KEY_A;
        return sm.send(command);
      },
    };
    // Past 200 heartbeats the server calms down, so an unbounded SDK still ends this test.
    api.reply = () =>
      api.sent.length > 200
        ? answer({ status: "current", nextHeartbeatSeconds: 3600 })
        : answer({ status: "stale", nextHeartbeatSeconds: 0 });
    const c = world.consumer({ secretsManagerClient: flapping });
    await c.heartbeatNow();
    await timers.advance(6_000);

    expect(api.sent.length).toBeLessThanOrEqual(10);
    expect(reads).toBeLessThanOrEqual(10);
    await c.stop();
  });

  it("no delay handed to Node's setTimeout exceeds 2^31-1 ms (it would fire at once)", async () => {
    const { nodeTimers } = await import("../../packages/consumer/src/timers");
    const fired: string[] = [];
    const far = nodeTimers.setTimeout(() => fired.push("far"), 2 ** 31 + 10);
    await new Promise((r) => setTimeout(r, 50));
    nodeTimers.clearTimeout(far);
    expect(fired).toEqual([]);
  });
});

describe("redirects", () => {
  it("a 307 to another origin is not followed: no request (no session token) there, no heartbeat counted", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const other = await serve((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "current", refreshNow: false, nextHeartbeatSeconds: 30 }));
    });
    const first = await serve((_req, res) => {
      res.writeHead(307, { location: `${other}/heartbeats` });
      res.end();
    });
    const c = world.consumer({ endpoint: `${first}/heartbeats`, fetchImpl: undefined });
    await c.heartbeatNow();

    expect(seen).toEqual([]);
    expect(c.status()).toMatchObject({ heartbeats: 0, lastError: { httpStatus: 307 } });
    expect(c.status().lastError?.message).not.toContain(other);
    await c.stop();
  });

  it("a fetch that followed one anyway is not believed", async () => {
    const { api } = world;
    api.reply = () => {
      const res = answer({ status: "current", nextHeartbeatSeconds: 30 });
      Object.defineProperty(res, "redirected", { value: true });
      Object.defineProperty(res, "url", { value: "https://elsewhere.example/heartbeats" });
      return res;
    };
    const c = world.consumer();
    await c.heartbeatNow();
    expect(c.status()).toMatchObject({ heartbeats: 0, lastError: { name: "HeartbeatRejectedError" } });
    await c.stop();
  });
});

describe("a secret echoed by a server never reaches status() or a log", () => {
  const inner = (value: string) => (JSON.parse(value) as { secret: string }).secret;
  const echoes: Array<[string, (held: string, previous: string) => Response]> = [
    ["the key's secret alone", (held) => errorAnswer(500, { message: `rejected ${inner(held)} here` })],
    [
      "the value JSON-escaped in a body that is not JSON",
      (held) => new Response(`upstream said ${JSON.stringify(held)} <html>`, { status: 502 }),
    ],
    [
      "the value cut by the message's length limit",
      (held) => errorAnswer(500, { message: `${"x".repeat(190)}${held}` }),
    ],
    [
      "the previous key after a rotation",
      (_held, previous) => errorAnswer(400, { message: `old: ${previous}` }),
    ],
    ["the previous key's secret alone", (_held, previous) => errorAnswer(400, { message: inner(previous) })],
  ];

  it("a plain value (no key names it) cut by the message's length limit", async () => {
    const { sm, api, logger } = world;
    const plain = "plain-api-token-7f3a9c2e-0123456789abcdef";
    sm.value = plain;
    const c = world.consumer();
    await c.getSecret();
    api.reply = () => errorAnswer(500, { message: `${"x".repeat(280)}${plain}` });
    await c.heartbeatNow();

    const seen = [...logger.lines, JSON.stringify(c.status())].join("\n");
    expect(seen).not.toContain(plain.slice(0, 8));
    await c.stop();
  });

  it.each(echoes)("%s", async (_what, echo) => {
    const { sm, api, logger } = world;
    const c = world.consumer();
    await c.getSecret();
    sm.value = KEY_B;
    await c.refreshNow();
    api.reply = () => echo(KEY_B, KEY_A);
    await c.heartbeatNow();

    const seen = [...logger.lines, JSON.stringify(c.status())].join("\n");
    expect(c.status().lastError?.operation).toBe("heartbeat");
    for (const value of [KEY_A, KEY_B]) {
      expect(seen).not.toContain(inner(value));
      expect(seen).not.toContain(inner(value).slice(0, 12));
      expect(seen).not.toContain(value.slice(0, 30));
    }
    await c.stop();
  });
});

describe("every option is bounded, with an error naming it and its range", () => {
  it.each([
    [{ requestTimeoutMs: 1e12 }, "requestTimeoutMs must be a number from 100 to 60000"],
    [{ requestTimeoutMs: 0 }, "requestTimeoutMs must be a number from 100 to 60000"],
    [
      { maxHeartbeatIntervalSeconds: 30 * 86_400 },
      "maxHeartbeatIntervalSeconds must be a number from 0.1 to 86400",
    ],
    [
      { minHeartbeatIntervalSeconds: 2 ** 31 },
      "minHeartbeatIntervalSeconds must be a number from 0.1 to 3600",
    ],
    [{ maxBackoffSeconds: 30 * 86_400 }, "maxBackoffSeconds must be a number from 0.1 to 3600"],
    [{ maxBackoffSeconds: 0.001 }, "maxBackoffSeconds must be a number from 0.1 to 3600"],
    [{ cacheTtlSeconds: 1e9 }, "cacheTtlSeconds must be a number from 0.1 to 604800"],
    [{ cacheTtlSeconds: Number.NaN }, "cacheTtlSeconds must be a number from 0.1 to 604800"],
  ])("rejects %o", (bad, message) => {
    expect(() => world.consumer(bad as Partial<ConsumerOptions>)).toThrow(ConsumerConfigError);
    expect(() => world.consumer(bad as Partial<ConsumerOptions>)).toThrow(message);
  });

  it("accepts the ends of every range", () => {
    for (const ok of [
      {
        requestTimeoutMs: 100,
        cacheTtlSeconds: 0.1,
        minHeartbeatIntervalSeconds: 0.1,
        maxBackoffSeconds: 0.1,
      },
      { requestTimeoutMs: 60_000, cacheTtlSeconds: 604_800, maxHeartbeatIntervalSeconds: 86_400 },
    ]) {
      expect(() => world.consumer(ok)).not.toThrow();
    }
  });
});

describe("status().lastError after a timeout says which bound fired", () => {
  it("a heartbeat that never answers fails after requestTimeoutMs and is retried with backoff", async () => {
    const { timers, api } = world;
    api.reply = () => new Promise<Response>(() => undefined);
    const c = world.consumer({ requestTimeoutMs: 1_000 });
    const beat = c.heartbeatNow();
    await timers.advance(1_000);
    expect(await settledNow(beat)).toBe(true);
    expect(c.status().lastError).toMatchObject({
      operation: "heartbeat",
      message: expect.stringMatching(/1000 ms/),
    });
    expect(await settledNow(c.stop())).toBe(true);
  });
});
