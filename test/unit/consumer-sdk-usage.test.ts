/**
 * The consumer SDK's usage counts (issue 20): one-line hooks count requests per endpoint class and
 * auth failures per hour and per key held; the counts ride on the heartbeats (no request of their
 * own), are bounded in memory, survive failed heartbeats, and never cost a heartbeat.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { MAX_PENDING_HOURS } from "../../packages/consumer/src/usage";
import { heartbeatBodySchema } from "../../src/commons/heartbeat-schema";
import { fingerprint } from "../../src/core/fingerprint";
import {
  answer,
  consumerWorld,
  errorAnswer,
  KEY_A,
  KEY_B,
  type SentHeartbeat,
} from "./support/consumer-fakes";

let world: ReturnType<typeof consumerWorld>;
beforeEach(() => {
  world = consumerWorld();
});

const HOUR = 3_600_000;
interface WireHour {
  hour: string;
  fingerprint: string;
  requests?: Record<string, number>;
  authFailures?: Record<string, number>;
}
const usageOf = (hb: SentHeartbeat | undefined) =>
  (hb?.body as { usage?: { hours: WireHour[] } } | undefined)?.usage?.hours;
/** Every count the server answered 2xx to, summed per (hour, fingerprint, name). */
function stored(sent: SentHeartbeat[], accepted: (hb: SentHeartbeat) => boolean) {
  const sums: Record<string, number> = {};
  for (const hb of sent.filter(accepted)) {
    for (const h of usageOf(hb) ?? []) {
      for (const [name, n] of Object.entries({ ...h.requests, ...h.authFailures })) {
        const key = `${h.hour} ${h.fingerprint.slice(0, 8)} ${name}`;
        sums[key] = (sums[key] ?? 0) + n;
      }
    }
  }
  return sums;
}

describe("recordUsage / recordAuthFailure", () => {
  it("ride on the next heartbeat, per hour and key held, in the shape the server validates; then are gone", async () => {
    const { timers, api } = world;
    const c = world.consumer();
    c.recordUsage("spot"); // nothing held yet: no key to count it under
    await c.getSecret();
    await timers.advance(0);
    c.recordUsage("spot");
    c.recordUsage("spot", 4);
    c.recordUsage("derivatives");
    c.recordAuthFailure("ip-not-allowed");
    await c.heartbeatNow();
    await c.heartbeatNow();

    const [first, withUsage, after] = api.sent;
    expect(usageOf(first)).toBeUndefined();
    expect(withUsage?.body).toEqual({
      secretId: "keyshift/exchange/acme/trading",
      fingerprint: fingerprint(KEY_A),
      instanceId: "engine-1",
      usage: {
        hours: [
          {
            hour: new Date(timers.now() - (timers.now() % HOUR)).toISOString(),
            fingerprint: fingerprint(KEY_A),
            requests: { spot: 5, derivatives: 1 },
            authFailures: { "ip-not-allowed": 1 },
          },
        ],
      },
    });
    expect(() => heartbeatBodySchema.parse(withUsage?.body)).not.toThrow();
    expect(usageOf(after)).toBeUndefined();
    expect(api.sent).toHaveLength(3); // no request of its own
    expect(c.status().usage).toEqual({ reporting: true, pendingHours: 0, dropped: 1 });
    await c.stop();
  });

  it("never throw: an unknown class counts as other, a count that is not a positive whole number is ignored", async () => {
    const c = world.consumer();
    await c.getSecret();
    c.recordUsage("futures" as never, 2);
    c.recordAuthFailure("nonce" as never);
    for (const bad of [0, -3, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) c.recordUsage("spot", bad);
    await c.heartbeatNow();

    expect(usageOf(world.api.sent.at(-1))?.[0]).toMatchObject({
      requests: { other: 2 },
      authFailures: { other: 1 },
    });
    await c.stop();
  });

  it("split by the key held when counted: a rotation mid-hour reports both keys", async () => {
    const { timers, sm, api } = world;
    const c = world.consumer();
    await c.getSecret();
    c.recordUsage("spot", 3);
    sm.value = KEY_B;
    await c.refreshNow();
    c.recordUsage("spot", 7);
    await timers.advance(0);
    await c.heartbeatNow();

    const hours = api.sent.flatMap((hb) => usageOf(hb) ?? []);
    expect(hours.map((h) => [h.fingerprint, h.requests?.spot]).sort()).toEqual(
      [
        [fingerprint(KEY_A), 3],
        [fingerprint(KEY_B), 7],
      ].sort(),
    );
    await c.stop();
  });
});

describe("when heartbeats fail", () => {
  it("loses no count: failed hours go again, merged with what came since", async () => {
    const { timers, api } = world;
    let failing = true;
    api.reply = () =>
      failing
        ? errorAnswer(500, { message: "heartbeat not recorded; retry" })
        : answer({ status: "current", nextHeartbeatSeconds: 30 });
    const c = world.consumer();
    await c.getSecret();
    c.recordUsage("spot", 10);
    await timers.advance(5_000);
    c.recordUsage("spot", 5);
    await timers.advance(HOUR); // the next hour, still failing
    c.recordUsage("margin", 2);
    failing = false;
    await timers.advance(120_000);

    const ok = (hb: SentHeartbeat) => hb.at >= timers.now() - 120_000;
    const h0 = new Date(1_800_000_000_000).toISOString();
    const h1 = new Date(1_800_000_000_000 + HOUR).toISOString();
    const fp = fingerprint(KEY_A).slice(0, 8);
    expect(stored(api.sent, ok)).toEqual({ [`${h0} ${fp} spot`]: 15, [`${h1} ${fp} margin`]: 2 });
    expect(c.status().usage).toEqual({ reporting: true, pendingHours: 0, dropped: 0 });
    await c.stop();
  });

  it("is bounded: past two days of pending hours the oldest is dropped and counted; a heartbeat carries four at most, oldest first", async () => {
    const { timers, api } = world;
    let failing = true;
    api.reply = () =>
      failing ? errorAnswer(503, {}) : answer({ status: "current", nextHeartbeatSeconds: 0 });
    const c = world.consumer();
    await c.getSecret();
    for (let h = 0; h < MAX_PENDING_HOURS + 12; h++) {
      c.recordUsage("spot", 1 + h);
      await timers.advance(HOUR);
    }
    expect(c.status().usage).toMatchObject({ pendingHours: MAX_PENDING_HOURS, dropped: (12 * 13) / 2 });

    failing = false;
    const before = api.sent.length;
    await timers.advance(60_000);
    const carried = api.sent.slice(before).map((hb) => usageOf(hb) ?? []);
    expect(Math.max(...carried.map((h) => h.length))).toBe(4);
    const order = carried.flat().map((h) => h.requests?.spot);
    expect(order).toEqual(Array.from({ length: MAX_PENDING_HOURS }, (_, i) => 13 + i));
    expect(c.status().usage.pendingHours).toBe(0);
    await c.stop();
  });

  it("stops counting when the server refuses the body for its usage (an older keyshift), so heartbeats keep working", async () => {
    const { timers, api, logger } = world;
    api.reply = (hb) =>
      usageOf(hb)
        ? errorAnswer(400, {
            error: "InvalidInput",
            message: 'invalid heartbeat: (root): Unrecognized key: "usage"',
          })
        : answer({ status: "current", nextHeartbeatSeconds: 30 });
    const c = world.consumer();
    await c.getSecret();
    await timers.advance(0);
    c.recordUsage("spot", 3);
    await c.heartbeatNow();
    c.recordUsage("spot", 4);
    await timers.advance(60_000);

    expect(api.sent.slice(2).every((hb) => usageOf(hb) === undefined)).toBe(true);
    expect(c.status()).toMatchObject({
      consecutiveErrors: 0,
      usage: { reporting: false, pendingHours: 0, dropped: 3 },
    });
    expect(logger.lines.some((l) => l.includes("usage reporting stops"))).toBe(true);
    await c.stop();
  });
});

describe("wrapFetch", () => {
  it("counts each answered exchange request by class and auth failures by kind; the answer is untouched", async () => {
    const c = world.consumer();
    await c.getSecret();
    const exchange = async (input: string | URL | Request) => {
      const path = new URL(String(input)).pathname;
      if (path === "/down") throw new TypeError("fetch failed");
      if (path === "/v5/order/create") return new Response('{"retCode":10010,"retMsg":"Unmatched IP"}');
      return new Response("{}", { status: path === "/v5/account/wallet-balance" ? 401 : 200 });
    };
    const wrapped = c.wrapFetch(exchange, {
      classify: (url) =>
        url.hostname !== "api.bybit.test"
          ? undefined
          : url.pathname.startsWith("/v5/order")
            ? "spot"
            : url.pathname === "/boom"
              ? (() => {
                  throw new Error("classifier bug");
                })()
              : "account",
      authFailure: async (res) => {
        if (res.status === 401) return "invalid-key";
        const body = (await res.clone().json()) as { retCode?: number };
        return body.retCode === 10010 ? "ip-not-allowed" : undefined;
      },
    });

    const order = await wrapped("https://api.bybit.test/v5/order/create");
    expect(await order.json()).toEqual({ retCode: 10010, retMsg: "Unmatched IP" });
    await wrapped("https://api.bybit.test/v5/account/wallet-balance");
    await wrapped("https://api.bybit.test/v5/order/create");
    await wrapped("https://elsewhere.test/v5/order/create");
    await expect(wrapped("https://api.bybit.test/down")).rejects.toThrow("fetch failed");
    await expect(wrapped("https://api.bybit.test/boom")).resolves.toBeInstanceOf(Response);
    await c.heartbeatNow();

    expect(usageOf(world.api.sent.at(-1))?.[0]).toMatchObject({
      requests: { spot: 2, account: 1 },
      authFailures: { "ip-not-allowed": 2, "invalid-key": 1 },
    });
    await c.stop();
  });
});

describe("stop", () => {
  it("sends the counts still pending in one last heartbeat, and nothing when none are", async () => {
    const { timers, api } = world;
    const quiet = world.consumer({ instanceId: "quiet-1" });
    await quiet.getSecret();
    await timers.advance(0);
    const before = api.sent.length;
    await quiet.stop();
    expect(api.sent.length).toBe(before);

    const busy = world.consumer({ instanceId: "busy-1" });
    await busy.getSecret();
    await timers.advance(0);
    busy.recordUsage("spot", 9);
    await busy.stop();
    await busy.stop();
    const last = api.sent.filter((hb) => hb.body.instanceId === "busy-1");
    expect(usageOf(last.at(-1))?.[0]?.requests).toEqual({ spot: 9 });
    expect(last.filter((hb) => usageOf(hb))).toHaveLength(1);
    expect(busy.status().usage.pendingHours).toBe(0);
    await timers.advance(600_000);
    expect(api.sent.filter((hb) => hb.body.instanceId === "busy-1")).toHaveLength(last.length);
  });
});
