/**
 * What Bybit reports about a sub-account's use (issue 20): the simulator serves
 * `/v5/execution/list` (the caller's own UID: a master cannot read its sub-account's) and the
 * universal-transfer list, each refusing a window past 7 days; the adapter reads executions with
 * the firm's read-only observer key and transfers with the master key, per account, no key named.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BybitSimulator, startBybitSimulator, tradingOrder } from "../../harness/local/exchange/bybit";
import { InMemoryRequestBudget } from "../../harness/memory";
import { BudgetedExchange } from "../../src/adapters/exchange/budgeted";
import { BybitExchange, parseBybitAdminSecret } from "../../src/adapters/exchange/bybit";
import { WINDOW_MAX_MS } from "../../src/adapters/exchange/bybit/activity";
import { ExchangePermanentError, RotationStateError } from "../../src/core/errors";
import type { BudgetRule } from "../../src/core/ports";
import { adapterFor, adminConfig, failure, rawCall, TRADING_SCOPE } from "./bybit-helpers";

const DAY = 24 * 3_600_000;
let sim: BybitSimulator;
let n = 0;
/**
 * The exchange's and keyshift's shared clock. A pull reads up to a few seconds before now, so a
 * test moves both ahead (`settle`) before pulling what it just did; signatures stay in the window.
 */
let offset = 0;
const clock = () => Date.now() + offset;
const settle = () => {
  offset += 10_000;
};
const trade = (key: { keyId: string; secret: string }, o: Parameters<typeof tradingOrder>[2]) =>
  tradingOrder(sim.url, key, o, { now: clock });

beforeAll(async () => {
  sim = await startBybitSimulator({ now: clock });
});
afterAll(async () => {
  await sim.close();
});

/** A sub-account with a trading key and, unless `observer: false`, a read-only observer key. */
function account(opts: { observer?: false | { readOnly: boolean } } = {}) {
  const name = `bybit-activity-${++n}`;
  const cred = sim.createAccount(name);
  const trader = sim.seedKey(name, { label: "trader", permissions: TRADING_SCOPE });
  const observerOpts = opts.observer === undefined ? { readOnly: true } : opts.observer;
  const observer = observerOpts
    ? sim.seedKey(name, {
        label: "observer",
        permissions: { Spot: ["SpotTrade"] },
        readOnly: observerOpts.readOnly,
      })
    : undefined;
  const config = adminConfig(
    sim,
    cred,
    observer ? { observer: { apiKey: observer.keyId, apiSecret: observer.secret } } : {},
  );
  const urls: URL[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    urls.push(new URL(String(input)));
    return fetch(input, init);
  };
  const exchange = (now = clock) => new BybitExchange({ credentials: async () => config, now, fetchImpl });
  return { name, cred, trader, observer, config, exchange, urls };
}

describe("the simulator's execution and transfer lists", () => {
  it("records a sub-account key's order as an execution of its own UID, which the master cannot read", async () => {
    const a = account();
    const placed = await trade(a.trader, { category: "linear", symbol: "BTCUSDT" });
    expect(placed.ok).toBe(true);
    const observer = { apiKey: a.observer?.keyId ?? "", secret: a.observer?.secret ?? "" };
    const own = await rawCall(sim, observer, "GET", "/v5/execution/list", { category: "linear" });
    expect(own.body.retCode).toBe(0);
    expect(own.body.result.list).toMatchObject([{ orderId: placed.orderId, execType: "Trade" }]);
    const master = await rawCall(
      sim,
      { apiKey: a.cred.apiKey, secret: a.cred.apiSecret },
      "GET",
      "/v5/execution/list",
      {
        category: "linear",
      },
    );
    expect(master.body.result.list).toEqual([]);
  });

  it("refuses a read-only key's order, a window past 7 days (181010), a limit past 100, no category", async () => {
    const a = account();
    const observer = { apiKey: a.observer?.keyId ?? "", secret: a.observer?.secret ?? "" };
    expect((await trade(a.observer ?? a.trader, { category: "spot", symbol: "BTCUSDT" })).retCode).toBe(
      10005,
    );
    const code = async (params: Record<string, unknown>) =>
      (await rawCall(sim, observer, "GET", "/v5/execution/list", params)).body.retCode;
    const end = Date.now();
    expect(await code({ category: "spot", startTime: end - WINDOW_MAX_MS - 1, endTime: end })).toBe(181010);
    expect(await code({ category: "spot", startTime: end - WINDOW_MAX_MS, endTime: end })).toBe(0);
    expect(await code({ category: "spot", startTime: end, endTime: end - 1 })).toBe(181009);
    expect(await code({ category: "spot", limit: 101 })).toBe(10001);
    expect(await code({})).toBe(10001);
    const transfers = async (key: { apiKey: string; secret: string }, params: Record<string, unknown>) =>
      (await rawCall(sim, key, "GET", "/v5/asset/transfer/query-universal-transfer-list", params)).body
        .retCode;
    const master = { apiKey: a.cred.apiKey, secret: a.cred.apiSecret };
    expect(await transfers(master, { startTime: end - WINDOW_MAX_MS - 1, endTime: end })).toBe(181010);
    expect(await transfers(master, { limit: 51 })).toBe(10001);
    // A sub-account key needs SubMemberTransferList to read its own transfers.
    expect(await transfers(observer, {})).toBe(10005);
  });
});

describe("BybitExchange.activitySince", () => {
  it("trades made with a sub-account key come back as rows, once per order; transfers out, not in; no key named", async () => {
    const a = account();
    await trade(a.trader, { category: "linear", symbol: "BTCUSDT" });
    await trade(a.trader, { category: "spot", symbol: "BTCUSDT" });
    const order = (await trade(a.trader, { category: "linear", symbol: "ETHUSDT" })).orderId;
    sim.activity.recordExecution(a.name, { category: "linear", orderId: order }); // a second fill
    sim.activity.recordExecution(a.name, { category: "linear", execType: "Funding" });
    sim.activity.recordTransfer(a.name, { direction: "out" });
    sim.activity.recordTransfer(a.name, { direction: "in" });

    settle();
    const page = await a.exchange().activitySince(a.name, undefined);

    expect(page.skipped).toBeUndefined();
    expect(page.rows.map((r) => r.endpointClass).sort()).toEqual([
      "derivatives",
      "derivatives",
      "spot",
      "transfer",
    ]);
    expect(page.rows.every((r) => r.keyId === undefined && r.count === 1)).toBe(true);
    expect(await a.exchange().capabilities(a.name)).toMatchObject({ activityAttribution: "account" });
  });

  it("reads only what is new on the next pull, from the cursor", async () => {
    const a = account();
    await trade(a.trader, { category: "linear", symbol: "BTCUSDT" });
    settle();
    const first = await a.exchange().activitySince(a.name, undefined);
    expect(first.rows).toHaveLength(1);
    await trade(a.trader, { category: "spot", symbol: "BTCUSDT" });
    settle();
    const second = await a.exchange().activitySince(a.name, first.cursor);
    expect(second.rows.map((r) => r.endpointClass)).toEqual(["spot"]);
  });

  it("leaves out the transfers of the master's other sub-accounts", async () => {
    const a = account();
    const sibling = `${a.name}-sibling`;
    sim.createAccount(sibling, { master: a.name });
    sim.activity.recordTransfer(sibling, { direction: "out" });
    settle();
    const page = await a.exchange().activitySince(a.name, undefined);
    expect(page.rows).toEqual([]);
  });

  it("without an observer key reads transfers and says executions are not read", async () => {
    const a = account({ observer: false });
    await trade(a.trader, { category: "linear", symbol: "BTCUSDT" });
    sim.activity.recordTransfer(a.name, { direction: "out" });
    settle();
    const page = await a.exchange().activitySince(a.name, undefined);
    expect(page.rows.map((r) => r.endpointClass)).toEqual(["transfer"]);
    expect(page.skipped?.join()).toContain("no observer key");
    expect(a.urls.some((u) => u.pathname === "/v5/execution/list")).toBe(false);
    // The hygiene audit's source for `exchange-activity-partial`: from the settings, no request.
    const before = a.urls.length;
    expect((await a.exchange().activityGaps(a.name)).join()).toMatch(
      /^executions are not read: .*"observer"/,
    );
    expect(await account().exchange().activityGaps(a.name)).toEqual([]);
    expect(a.urls.length).toBe(before);
  });

  it("splits a cursor weeks behind into windows of at most 7 days, contiguous, and finds an old trade", async () => {
    const a = account();
    const now = clock();
    sim.activity.recordExecution(a.name, { category: "option", atMs: now - 15 * DAY });
    const behind = JSON.stringify({ v: 1, streams: { "exec:option": { fromMs: 0, toMs: now - 20 * DAY } } });

    const page = await a.exchange(() => now).activitySince(a.name, behind);

    expect(page.rows.filter((r) => r.endpointClass === "derivatives")).toHaveLength(1);
    const windows = a.urls
      .filter((u) => u.pathname === "/v5/execution/list" && u.searchParams.get("category") === "option")
      .map((u) => [Number(u.searchParams.get("startTime")), Number(u.searchParams.get("endTime"))] as const);
    expect(windows).toHaveLength(3);
    for (const [from, to] of windows) expect(to - from).toBeLessThanOrEqual(WINDOW_MAX_MS);
    expect(windows[0]?.[0]).toBe(now - 20 * DAY + 1);
    expect(windows[1]?.[0]).toBe((windows[0]?.[1] ?? 0) + 1);
    expect(windows.at(-1)?.[1]).toBe(now - 5_000);
  });

  it("follows pages, and a window cut by the page bound is finished by the next pull", async () => {
    const a = account();
    const now = clock();
    for (let i = 0; i < 1_050; i++)
      sim.activity.recordExecution(a.name, { category: "inverse", atMs: now - 60_000 - i });
    const first = await a.exchange(() => now).activitySince(a.name, undefined);
    expect(first.rows).toHaveLength(1_000);
    const second = await a.exchange().activitySince(a.name, first.cursor);
    expect(second.rows).toHaveLength(50);
    const third = await a.exchange().activitySince(a.name, second.cursor);
    expect(third.rows).toHaveLength(0);
  });

  it("refuses an observer key that can trade, or one of another sub-account", async () => {
    const rw = account({ observer: { readOnly: false } });
    const err = await failure(rw.exchange().activitySince(rw.name, undefined));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toContain("not read-only");
    expect(err.message).not.toContain(rw.observer?.secret);

    const other = account();
    const a = account();
    const foreign = adminConfig(sim, a.cred, {
      observer: { apiKey: other.observer?.keyId, apiSecret: other.observer?.secret },
    });
    const x = adapterFor(foreign, { now: clock });
    expect((await failure(x.activitySince(a.name, undefined))).message).toContain(
      `not a key of sub-account ${a.cred.subuid}`,
    );
  });

  it("never counts the observer key: left out of listKeys (one slot less) and never removed", async () => {
    const a = account();
    const x = a.exchange();
    const listing = await x.listKeys(a.name);
    expect(listing.keys.map((k) => k.keyId)).toEqual([a.trader.keyId]);
    expect(listing.maxActiveKeys).toBe(a.config.maxKeys - 1);
    await expect(x.removeKey(a.name, a.observer?.keyId ?? "")).rejects.toThrow(/observer key/);
    expect(sim.keys(a.name).find((k) => k.keyId === a.observer?.keyId)?.status).toBe("active");
  });

  it("every request of a pull takes a slot of the account's request budget", async () => {
    const a = account();
    let slots = 0;
    const inner = new InMemoryRequestBudget();
    const budget = {
      take: (bucket: string, rule: BudgetRule, now: Date) => {
        slots++;
        return inner.take(bucket, rule, now);
      },
    };
    const budgeted = new BudgetedExchange(a.exchange(), budget, {
      budgets: { bybit: { limit: 100, windowMs: 1000 } },
    });
    await budgeted.activitySince(a.name, undefined);
    // query-api (observer), four categories, the transfer list.
    expect(a.urls).toHaveLength(6);
    expect(slots).toBe(a.urls.length);
  });
});

describe("the admin secret's observer", () => {
  const base = {
    exchange: "bybit",
    endpoint: "https://api.bybit.com",
    apiKey: "MASTERKEY",
    apiSecret: "MASTERSECRET",
    subuid: "123",
  };
  const bad = (observer: unknown) => {
    try {
      parseBybitAdminSecret({ ...base, observer }, "keyshift/admin/x");
    } catch (err) {
      return err as Error;
    }
    throw new Error("accepted");
  };

  it("names the bad field, never its value; refuses the master key as the observer", () => {
    const missing = bad({ apiKey: "OBSERVERKEY" });
    expect(missing).toBeInstanceOf(RotationStateError);
    expect(missing.message).toContain('"observer.apiSecret"');
    const spaced = bad({ apiKey: "OBSERVERKEY", apiSecret: "has a space-secret-value" });
    expect(spaced.message).toContain('"observer.apiSecret"');
    expect(spaced.message).not.toContain("space-secret-value");
    expect(bad({ apiKey: "MASTERKEY", apiSecret: "S" }).message).toContain('"observer.apiKey"');
    expect(bad(["OBSERVERKEY"]).message).toContain('"observer"');
    expect(
      parseBybitAdminSecret({ ...base, observer: { apiKey: "K", apiSecret: "S" } }, "x").observer,
    ).toEqual({
      apiKey: "K",
      apiSecret: "S",
    });
    expect(parseBybitAdminSecret(base, "x").observer).toBeUndefined();
  });
});
