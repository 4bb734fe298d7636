/**
 * What OKX reports about a sub-account's use (issue 20): the simulator serves
 * `/api/v5/trade/fills` (the caller's own account, the last 3 days: a master cannot read its
 * sub-account's) and the master-only `/api/v5/asset/subaccount/bills`; the adapter reads fills
 * with the firm's read-only observer key and transfers with the master key, no key named.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OkxSimulator, startOkxSimulator, tradingOrder } from "../../harness/local/exchange/okx";
import { InMemoryRequestBudget } from "../../harness/memory";
import { BudgetedExchange } from "../../src/adapters/exchange/budgeted";
import { OkxExchange, parseOkxAdminSecret } from "../../src/adapters/exchange/okx";
import { FILLS_RETENTION_MS } from "../../src/adapters/exchange/okx/activity";
import { ExchangePermanentError, RotationStateError } from "../../src/core/errors";
import type { BudgetRule } from "../../src/core/ports";
import { adminConfig, failure, rawCall, TRADING_PERM } from "./okx-helpers";

const DAY = 24 * 3_600_000;
let sim: OkxSimulator;
let n = 0;
/** The exchange's and keyshift's shared clock; `settle` moves both past a pull's settle delay. */
let offset = 0;
const clock = () => Date.now() + offset;
const settle = () => {
  offset += 10_000;
};
type Key = { keyId: string; secret: string; passphrase: string };
const trade = (key: Key, o: Parameters<typeof tradingOrder>[2]) =>
  tradingOrder(sim.url, key, o, { now: clock });
const asRaw = (key: Key) => ({ apiKey: key.keyId, secretKey: key.secret, passphrase: key.passphrase });

beforeAll(async () => {
  sim = await startOkxSimulator({ now: clock });
});
afterAll(async () => {
  await sim.close();
});

function account(opts: { observer?: false | { perm: string[] } } = {}) {
  const name = `okx-activity-${++n}`;
  const cred = sim.createAccount(name);
  const trader = sim.seedKey(name, { label: "trader", perm: TRADING_PERM });
  const observerOpts = opts.observer === undefined ? { perm: ["read_only"] } : opts.observer;
  const observer = observerOpts
    ? sim.seedKey(name, { label: "observer", perm: observerOpts.perm })
    : undefined;
  const config = adminConfig(
    sim,
    cred,
    observer
      ? { observer: { apiKey: observer.keyId, secretKey: observer.secret, passphrase: observer.passphrase } }
      : {},
  );
  const urls: URL[] = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    urls.push(new URL(String(input)));
    return fetch(input, init);
  };
  const exchange = (now = clock) => new OkxExchange({ credentials: async () => config, now, fetchImpl });
  return { name, cred, trader, observer, config, exchange, urls };
}

describe("the simulator's fills and sub-account bills", () => {
  it("records a sub-account key's order as a fill of its own account, which the master cannot read", async () => {
    const a = account();
    const placed = await trade(a.trader, { instId: "BTC-USDT" });
    expect(placed.ok).toBe(true);
    const own = await rawCall(sim, asRaw(a.observer as Key), "GET", "/api/v5/trade/fills");
    expect(own.body.data).toMatchObject([{ ordId: placed.ordId, instType: "SPOT", subType: "1" }]);
    const master = { apiKey: a.cred.apiKey, secretKey: a.cred.secretKey, passphrase: a.cred.passphrase };
    expect((await rawCall(sim, master, "GET", "/api/v5/trade/fills")).body.data).toEqual([]);
  });

  it("refuses what OKX refuses: a read-only key's order, a limit past 100, bills read by a sub-account key", async () => {
    const a = account();
    expect((await trade(a.observer as Key, { instId: "BTC-USDT" })).code).toBe("50030");
    const observer = asRaw(a.observer as Key);
    expect((await rawCall(sim, observer, "GET", "/api/v5/trade/fills", { limit: "101" })).body.code).toBe(
      "51000",
    );
    expect((await rawCall(sim, observer, "GET", "/api/v5/asset/subaccount/bills")).body.code).toBe("59500");
  });

  it("serves fills of the last 3 days only", async () => {
    const a = account();
    sim.activity.recordFill(a.name, { atMs: clock() - FILLS_RETENTION_MS - 60_000 });
    sim.activity.recordFill(a.name, { atMs: clock() - FILLS_RETENTION_MS + 60_000 });
    const answer = await rawCall(sim, asRaw(a.observer as Key), "GET", "/api/v5/trade/fills");
    expect(answer.body.data).toHaveLength(1);
  });
});

describe("OkxExchange.activitySince", () => {
  it("trades made with a sub-account key come back as rows, once per order; transfers out, not in; no key named", async () => {
    const a = account();
    await trade(a.trader, { instId: "BTC-USDT" });
    await trade(a.trader, { instId: "BTC-USDT", tdMode: "cross" });
    const ordId = (await trade(a.trader, { instId: "BTC-USDT-SWAP", tdMode: "cross" })).ordId;
    sim.activity.recordFill(a.name, { ordId, instType: "SWAP" }); // a second fill of that order
    sim.activity.recordFill(a.name, { instType: "SWAP", subType: "104" }); // a liquidation
    sim.activity.recordTransfer(a.name, { direction: "out" });
    sim.activity.recordTransfer(a.name, { direction: "in" });
    settle();

    const page = await a.exchange().activitySince(a.name, undefined);

    expect(page.skipped).toBeUndefined();
    expect(page.rows.map((r) => r.endpointClass).sort()).toEqual([
      "derivatives",
      "margin",
      "spot",
      "transfer",
    ]);
    expect(page.rows.every((r) => r.keyId === undefined && r.count === 1)).toBe(true);
    expect(await a.exchange().capabilities(a.name)).toMatchObject({ activityAttribution: "account" });
  });

  it("reads only what is new on the next pull", async () => {
    const a = account();
    await trade(a.trader, { instId: "BTC-USDT" });
    settle();
    const first = await a.exchange().activitySince(a.name, undefined);
    expect(first.rows).toHaveLength(1);
    await trade(a.trader, { instId: "BTC-USDT-SWAP", tdMode: "cross" });
    sim.activity.recordTransfer(a.name, { direction: "out" });
    settle();
    const second = await a.exchange().activitySince(a.name, first.cursor);
    expect(second.rows.map((r) => r.endpointClass).sort()).toEqual(["derivatives", "transfer"]);
  });

  it("without an observer key reads transfers and says fills are not read", async () => {
    const a = account({ observer: false });
    await trade(a.trader, { instId: "BTC-USDT" });
    sim.activity.recordTransfer(a.name, { direction: "out" });
    settle();
    const page = await a.exchange().activitySince(a.name, undefined);
    expect(page.rows.map((r) => r.endpointClass)).toEqual(["transfer"]);
    expect(page.skipped?.join()).toContain("no observer key");
    expect(a.urls.some((u) => u.pathname === "/api/v5/trade/fills")).toBe(false);
    const before = a.urls.length;
    expect((await a.exchange().activityGaps(a.name)).join()).toMatch(/^fills are not read: .*"observer"/);
    expect(await account().exchange().activityGaps(a.name)).toEqual([]);
    expect(a.urls.length).toBe(before);
  });

  it("a cursor days behind catches up with fills-history per instrument type, then reads fills", async () => {
    const a = account();
    const now = clock();
    sim.activity.recordFill(a.name, { instType: "SPOT", atMs: now - 4 * DAY });
    sim.activity.recordFill(a.name, { instType: "SWAP", atMs: now - 2 * DAY });
    const behind = JSON.stringify({ v: 1, streams: { fills: { fromMs: 0, toMs: now - 5 * DAY } } });

    const page = await a.exchange().activitySince(a.name, behind);

    expect(page.skipped).toBeUndefined();
    expect(page.rows.map((r) => r.endpointClass).sort()).toEqual(["derivatives", "spot"]);
    const history = a.urls.filter((u) => u.pathname === "/api/v5/trade/fills-history");
    expect(history.map((u) => u.searchParams.get("instType")).sort()).toEqual([
      "EVENTS",
      "FUTURES",
      "MARGIN",
      "OPTION",
      "SPOT",
      "SWAP",
    ]);
    // Each history window ends the millisecond before the 3-day endpoint's begins (both are asked
    // a millisecond wider: \`end\` = window end + 1, \`begin\` = window start - 1): contiguous.
    const fillsBegin = Number(
      a.urls.find((u) => u.pathname === "/api/v5/trade/fills")?.searchParams.get("begin"),
    );
    for (const u of history) expect(Number(u.searchParams.get("end")) - 1 + 1).toBe(fillsBegin + 1);
    const again = await a.exchange().activitySince(a.name, page.cursor);
    expect(again.rows).toEqual([]);
  });

  it("a cursor older than 3 months says what it cannot read; the simulator requires instType on fills-history", async () => {
    const a = account();
    const now = clock();
    const behind = JSON.stringify({ v: 1, streams: { fills: { fromMs: 0, toMs: now - 100 * DAY } } });
    const page = await a.exchange().activitySince(a.name, behind);
    expect(page.skipped?.join()).toMatch(/fills history \(SPOT\): .* older than the exchange serves/);
    const raw = await rawCall(sim, asRaw(a.observer as Key), "GET", "/api/v5/trade/fills-history");
    expect(raw.body.code).toBe("50014");
  });

  it("pages fills by billId and sub-account bills by time; a window cut by the page bound finishes next pull", async () => {
    const a = account();
    const now = clock();
    for (let i = 0; i < 1_030; i++) sim.activity.recordFill(a.name, { atMs: now - 60_000 - i });
    for (let i = 0; i < 150; i++)
      sim.activity.recordTransfer(a.name, { direction: "out", atMs: now - 60_000 - i });
    const first = await a.exchange().activitySince(a.name, undefined);
    expect(first.rows.filter((r) => r.endpointClass === "derivatives")).toHaveLength(1_000);
    expect(first.rows.filter((r) => r.endpointClass === "transfer")).toHaveLength(150);
    const second = await a.exchange().activitySince(a.name, first.cursor);
    expect(second.rows).toHaveLength(30);
  });

  it("refuses an observer key that can trade, or that is not this sub-account's", async () => {
    const rw = account({ observer: { perm: TRADING_PERM } });
    const err = await failure(rw.exchange().activitySince(rw.name, undefined));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toContain("not read-only");
    expect(err.message).not.toContain(rw.observer?.passphrase);

    const other = account();
    const a = account();
    const foreign = adminConfig(sim, a.cred, {
      observer: {
        apiKey: other.observer?.keyId,
        secretKey: other.observer?.secret,
        passphrase: other.observer?.passphrase,
      },
    });
    const x = new OkxExchange({ credentials: async () => foreign, now: clock });
    expect((await failure(x.activitySince(a.name, undefined))).message).toContain("not a key of sub-account");
  });

  it("never counts the observer key: left out of listKeys (one slot less) and never removed", async () => {
    const a = account();
    const listing = await a.exchange().listKeys(a.name);
    expect(listing.keys.map((k) => k.keyId)).toEqual([a.trader.keyId]);
    expect(listing.maxActiveKeys).toBe(a.config.maxKeys - 1);
    await expect(a.exchange().removeKey(a.name, a.observer?.keyId ?? "")).rejects.toThrow(/observer key/);
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
      budgets: { okx: { limit: 100, windowMs: 1000 } },
    });
    await budgeted.activitySince(a.name, undefined);
    // The observer's listing, its fills, the master's bills.
    expect(a.urls).toHaveLength(3);
    expect(slots).toBe(a.urls.length);
  });
});

describe("the admin secret's observer", () => {
  const base = {
    exchange: "okx",
    apiKey: "master-key",
    secretKey: "master-secret-key",
    passphrase: "Master-Pass1!",
    subAcct: "subaccount1",
  };
  it("names the bad field, never its value", () => {
    const bad = (observer: unknown) => {
      try {
        parseOkxAdminSecret({ ...base, observer }, "keyshift/admin/x");
      } catch (err) {
        return err as Error;
      }
      throw new Error("accepted");
    };
    const missing = bad({ apiKey: "obs-key", secretKey: "obs-secret-value" });
    expect(missing).toBeInstanceOf(RotationStateError);
    expect(missing.message).toContain('"observer.passphrase"');
    expect(missing.message).not.toContain("obs-secret-value");
    expect(bad({ apiKey: "master-key", secretKey: "s", passphrase: "p" }).message).toContain(
      '"observer.apiKey"',
    );
    expect(bad("obs-secret-value").message).toContain('"observer"');
    expect(
      parseOkxAdminSecret({ ...base, observer: { apiKey: "k", secretKey: "s", passphrase: "p" } }, "x")
        .observer,
    ).toEqual({ apiKey: "k", secretKey: "s", passphrase: "p" });
  });
});
