/**
 * Issue 20, deliverable 2 on Bybit and OKX, end to end over HTTP: admin secrets holding the
 * firm's read-only observer key of each sub-account, read through the router (parsed as stored),
 * the request budget in front, and the hourly pull storing the sums. Orders placed with the
 * sub-accounts' trading keys come back as the accounts' activity; no key is named.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BybitSimulator,
  tradingOrder as bybitOrder,
  startBybitSimulator,
} from "../../harness/local/exchange/bybit";
import {
  type OkxSimulator,
  tradingOrder as okxOrder,
  startOkxSimulator,
} from "../../harness/local/exchange/okx";
import { InMemoryExchangeActivityStore, InMemoryRequestBudget } from "../../harness/memory";
import { BudgetedExchange } from "../../src/adapters/exchange/budgeted";
import { type BybitConfig, BybitExchange, parseBybitAdminSecret } from "../../src/adapters/exchange/bybit";
import { type OkxConfig, OkxExchange, parseOkxAdminSecret } from "../../src/adapters/exchange/okx";
import {
  type ExchangeProtocol,
  type ExchangeProtocols,
  ExchangeRouter,
} from "../../src/adapters/exchange/router";
import { ANY_KEY, hourOf } from "../../src/core/misuse/model";
import { pullExchangeActivity } from "../../src/core/misuse/pull";
import type { SecretStore } from "../../src/core/ports";

let offset = 0;
/** The exchanges' and keyshift's shared clock, moved past the pull's settle delay before it runs. */
const clock = () => Date.now() + offset;
let bybit: BybitSimulator;
let okx: OkxSimulator;

beforeAll(async () => {
  bybit = await startBybitSimulator({ now: clock });
  okx = await startOkxSimulator({ now: clock });
});
afterAll(async () => {
  await bybit.close();
  await okx.close();
});

describe("the hourly pull on Bybit and OKX sub-accounts", () => {
  it("stores the orders a sub-account key placed and the transfers out, per account, through router and budget", async () => {
    // Arrange: each sub-account with a trading key and a read-only observer key the firm made.
    const b = bybit.createAccount("bybit-desk");
    const bTrader = bybit.seedKey("bybit-desk", { label: "trader", permissions: { Spot: ["SpotTrade"] } });
    const bObserver = bybit.seedKey("bybit-desk", {
      label: "observer",
      permissions: { Spot: ["SpotTrade"] },
      readOnly: true,
    });
    const o = okx.createAccount("okx-desk");
    const oTrader = okx.seedKey("okx-desk", { label: "trader", perm: ["read_only", "trade"] });
    const oObserver = okx.seedKey("okx-desk", { label: "observer", perm: ["read_only"] });
    const admin: Record<string, string> = {
      "keyshift/admin/bybit-desk": JSON.stringify({
        exchange: "bybit",
        endpoint: bybit.url,
        apiKey: b.apiKey,
        apiSecret: b.apiSecret,
        subuid: b.subuid,
        observer: { apiKey: bObserver.keyId, apiSecret: bObserver.secret },
      }),
      "keyshift/admin/okx-desk": JSON.stringify({
        exchange: "okx",
        endpoint: okx.url,
        apiKey: o.apiKey,
        secretKey: o.secretKey,
        passphrase: o.passphrase,
        subAcct: o.subAcct,
        observer: { apiKey: oObserver.keyId, secretKey: oObserver.secret, passphrase: oObserver.passphrase },
      }),
    };
    const secrets = {
      getValue: async (secretId: string) => ({ value: admin[secretId] ?? "", versionId: "v1" }),
    } as unknown as SecretStore;
    // The real admin-secret parsers; adapters on the test's clock.
    const protocols: ExchangeProtocols = new Map<string, ExchangeProtocol<unknown>>([
      [
        "bybit",
        {
          parseAdminSecret: parseBybitAdminSecret,
          create: (credentials) =>
            new BybitExchange({
              credentials: credentials as (a: string) => Promise<BybitConfig>,
              now: clock,
            }),
        },
      ],
      [
        "okx",
        {
          parseAdminSecret: parseOkxAdminSecret,
          create: (credentials) =>
            new OkxExchange({ credentials: credentials as (a: string) => Promise<OkxConfig>, now: clock }),
        },
      ],
    ]);
    const exchange = new BudgetedExchange(
      new ExchangeRouter(secrets, "keyshift/admin/", protocols),
      new InMemoryRequestBudget(),
      {
        budgets: { bybit: { limit: 50, windowMs: 1000 }, okx: { limit: 50, windowMs: 1000 } },
      },
    );
    const side = new InMemoryExchangeActivityStore();

    // Act: the traders trade; one transfer leaves the OKX sub-account; the pull runs a little later.
    expect(
      (await bybitOrder(bybit.url, bTrader, { category: "spot", symbol: "BTCUSDT" }, { now: clock })).ok,
    ).toBe(true);
    expect(
      (await okxOrder(okx.url, oTrader, { instId: "BTC-USDT-SWAP", tdMode: "cross" }, { now: clock })).ok,
    ).toBe(true);
    okx.activity.recordTransfer("okx-desk", { direction: "out" });
    offset += 10_000;
    const result = await pullExchangeActivity({
      store: {
        listSettings: async () =>
          [
            { secretId: "desk/bybit", exchangeAccount: "bybit-desk" },
            { secretId: "desk/okx", exchangeAccount: "okx-desk" },
          ] as never,
      },
      exchange,
      exchangeSide: side,
      clock: { now: () => new Date(clock()) },
    });

    // Assert
    expect(result.failed).toEqual([]);
    const pulled = result.pulled.map((p) => [p.account, p.rows, p.skipped]).sort();
    expect(pulled).toEqual([
      ["bybit-desk", 1, undefined],
      ["okx-desk", 2, undefined],
    ]);
    const hour = hourOf(clock());
    const sums = async (account: string) =>
      (await side.readActivity(account, hour - 1, hour + 1)).map((a) => [
        a.endpointClass,
        a.count,
        a.keyId ?? ANY_KEY,
      ]);
    expect(await sums("bybit-desk")).toEqual([["spot", 1, ANY_KEY]]);
    expect((await sums("okx-desk")).sort()).toEqual([
      ["derivatives", 1, ANY_KEY],
      ["transfer", 1, ANY_KEY],
    ]);
    // The observer keys stay out of what keyshift judges as the accounts' keys.
    expect((await exchange.listKeys("bybit-desk")).keys.map((k) => k.keyId)).toEqual([bTrader.keyId]);
    expect((await exchange.listKeys("okx-desk")).keys.map((k) => k.keyId)).toEqual([oTrader.keyId]);
  });
});
