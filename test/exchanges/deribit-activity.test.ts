/**
 * What Deribit reports about an account's use (issue 20): the simulator serves
 * `private/get_access_log` and `private/get_transaction_log` in Deribit's shapes and refuses what
 * Deribit refuses; the adapter's `activitySince` reads only what is new, per account (no key named).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUTSIDE_IP } from "../../harness/local/exchange/caller-address";
import {
  type DeribitSimulator,
  startDeribitSimulator,
  tradingBuy,
  tradingLogin,
} from "../../harness/local/exchange/deribit";
import { DeribitExchange } from "../../src/adapters/exchange/deribit";
import { deribitAuthorizationHeader } from "../../src/adapters/exchange/deribit/signing";
import { ExchangePermanentError } from "../../src/core/errors";

let sim: DeribitSimulator;
let accounts = 0;

beforeAll(async () => {
  sim = await startDeribitSimulator();
});
afterAll(async () => {
  await sim.close();
});

function account() {
  const name = `activity-${++accounts}`;
  const admin = sim.createAccount(name);
  const trader = sim.seedKey(name, { label: "trader", permissions: ["account:read", "trade:read_write"] });
  const sleeps: number[] = [];
  const exchange = (accountId = admin.accountId) =>
    new DeribitExchange({
      credentials: async () => ({
        endpoint: sim.url,
        clientId: admin.adminKeyId,
        clientSecret: admin.adminSecret,
        accountId,
      }),
      // Transaction-log windows end a few seconds before now: look from a little ahead.
      now: () => Date.now() + 10_000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
  return { name, admin, trader, exchange, sleeps };
}

/** A raw signed call as the admin key, to see the simulator's own answers. */
async function adminCall(a: ReturnType<typeof account>, method: string, params: Record<string, unknown>) {
  const url = new URL(`/api/v2/${method}`, sim.url);
  const body = JSON.stringify({ jsonrpc: "2.0", id: 7, method, params });
  const authorization = deribitAuthorizationHeader(
    { clientId: a.admin.adminKeyId, clientSecret: a.admin.adminSecret },
    { method: "POST", uri: url.pathname, body, nowMs: Date.now() },
  );
  const res = await fetch(url, { method: "POST", headers: { authorization }, body });
  return (await res.json()) as { result?: Record<string, unknown>; error?: { code: number } };
}

describe("the simulator's logs", () => {
  it("records each public/auth login with the caller's address and its place, failures too", async () => {
    const a = account();
    expect((await tradingLogin(sim.url, a.trader)).ok).toBe(true);
    expect((await tradingLogin(sim.url, { ...a.trader, secret: "wrong" })).errorCode).toBe(13004);

    const answer = await adminCall(a, "private/get_access_log", { count: 10 });
    expect(answer.result).toMatchObject({
      records_total: 2,
      data: [
        { log: "failure", ip: OUTSIDE_IP, country: "Outside Country" },
        { log: "success", ip: OUTSIDE_IP, country: "Outside Country", city: "Outside Town" },
      ],
    });
  });

  it("records each order's fill in the transaction log with the IP that placed it", async () => {
    const a = account();
    expect((await tradingBuy(sim.url, a.trader, { instrument: "BTC-PERPETUAL", amount: 10 })).ok).toBe(true);
    const answer = await adminCall(a, "private/get_transaction_log", {
      currency: "BTC",
      start_timestamp: 0,
      end_timestamp: Date.now() + 1000,
    });
    expect(answer.result).toMatchObject({
      logs: [
        { type: "trade", instrument_name: "BTC-PERPETUAL", ip: OUTSIDE_IP, amount: 10, username: a.name },
      ],
      continuation: null,
    });
  });

  it("refuses what Deribit refuses: count past its maximum, a missing or unknown currency, no timestamps", async () => {
    const a = account();
    const code = async (method: string, params: Record<string, unknown>) =>
      (await adminCall(a, method, params)).error?.code;
    const window = { start_timestamp: 0, end_timestamp: 1 };

    expect(await code("private/get_access_log", { count: 1001 })).toBe(-32602);
    expect(await code("private/get_access_log", { count: 0 })).toBe(-32602);
    expect(await code("private/get_transaction_log", { currency: "BTC", ...window, count: 251 })).toBe(
      -32602,
    );
    expect(await code("private/get_transaction_log", { ...window })).toBe(-32602);
    expect(await code("private/get_transaction_log", { currency: "DOGE", ...window })).toBe(-32602);
    expect(await code("private/get_transaction_log", { currency: "BTC" })).toBe(-32602);
    expect(await code("private/get_access_log", { count: 1000 })).toBeUndefined();
  });
});

describe("DeribitExchange.activitySince", () => {
  it("logins as `account` with IP and country, one row per order, withdrawals; no key named", async () => {
    const a = account();
    await tradingLogin(sim.url, a.trader);
    await tradingBuy(sim.url, a.trader, { instrument: "BTC-PERPETUAL", amount: 10 });
    await tradingBuy(sim.url, a.trader, { instrument: "BTC_USDC", amount: 1 });
    sim.activity.record(a.name, { type: "withdrawal", currency: "ETH", ip: "198.51.100.7" });
    sim.activity.record(a.name, { type: "deposit", currency: "ETH", ip: "198.51.100.7" });

    const page = await a.exchange().activitySince(a.name, undefined);

    const rows = page.rows.map(({ atMs: _t, ...rest }) => rest);
    expect(rows).toEqual(
      expect.arrayContaining([
        { endpointClass: "account", count: 1, ip: OUTSIDE_IP, country: "Outside Country" },
        { endpointClass: "derivatives", count: 1, ip: OUTSIDE_IP },
        { endpointClass: "spot", count: 1, ip: OUTSIDE_IP },
        { endpointClass: "withdrawal", count: 1, ip: "198.51.100.7" },
      ]),
    );
    expect(rows).toHaveLength(4);
    expect(page.rows.some((r) => r.keyId !== undefined)).toBe(false);
    expect(page.skipped).toBeUndefined();
    // One transaction-log request a second (Deribit's sustained rate for the method).
    expect(a.sleeps).toEqual([1000, 1000, 1000]);
  });

  it("the next pull reads only what is new since the cursor", async () => {
    const a = account();
    await tradingLogin(sim.url, a.trader);
    await tradingBuy(sim.url, a.trader, { instrument: "ETH-PERPETUAL", amount: 1 });
    const first = await a.exchange().activitySince(a.name, undefined);
    expect(first.rows).toHaveLength(2);

    expect((await a.exchange().activitySince(a.name, first.cursor)).rows).toEqual([]);
    await tradingLogin(sim.url, a.trader);
    const second = await a.exchange().activitySince(a.name, first.cursor);
    expect(second.rows.map((r) => r.endpointClass)).toEqual(["account"]);
  });

  it("pages through more than a page of each log, counting each row once", async () => {
    const a = account();
    for (let i = 0; i < 1_200; i++) sim.activity.recordLogin(a.name, "success", "203.0.113.9");
    for (let i = 0; i < 300; i++)
      sim.activity.record(a.name, { type: "withdrawal", currency: "BTC", ip: "203.0.113.9" });

    const page = await a.exchange().activitySince(a.name, undefined);

    expect(page.rows.filter((r) => r.endpointClass === "account")).toHaveLength(1_200);
    expect(page.rows.filter((r) => r.endpointClass === "withdrawal")).toHaveLength(300);
  });

  it("refuses to read another account's logs: the admin key must manage the account the secret names", async () => {
    const a = account();
    const err = await a
      .exchange(a.admin.accountId + 1)
      .activitySince(a.name, undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(String((err as Error).message)).not.toContain(a.admin.adminSecret);
  });

  it("an unreadable cursor is read again as a first pull, and said", async () => {
    const a = account();
    await tradingLogin(sim.url, a.trader);
    const page = await a.exchange().activitySince(a.name, "{not json");
    expect(page.rows).toHaveLength(1);
    expect(page.skipped).toEqual([expect.stringContaining("cursor was unreadable")]);
  });
});
