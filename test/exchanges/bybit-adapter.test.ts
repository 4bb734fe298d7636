import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type BybitSimulator, startBybitSimulator } from "../../harness/local/exchange/bybit";
import type { BybitConfig } from "../../src/adapters/exchange/bybit";
import { ResponseTooLargeError } from "../../src/adapters/exchange/http";
import {
  ExchangeIpRefusedError,
  ExchangeKeyLimitError,
  ExchangePermanentError,
  ExchangeRetryableError,
  sanitizeErrorMessage,
} from "../../src/core/errors";
import { adapterFor, adminConfig, failure, startProxy, TRADING_SCOPE } from "./bybit-helpers";

const DAY = 24 * 3600 * 1000;
const A = "acct-a";

/** Every adapter error path, against the simulator over real HTTP (and a real proxy where the edge misbehaves). */
describe("BybitExchange error paths", () => {
  let sim: BybitSimulator;
  let offset = 0;
  const now = () => Date.now() + offset;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let config: BybitConfig;
  let viaProxy: BybitConfig;
  const secrets: string[] = [];
  const errors: Error[] = [];
  const failed = async (work: Promise<unknown>) => {
    const err = await failure(work);
    errors.push(err);
    return err;
  };
  const exchange = (
    cfg = config,
    opts: { now?: () => number; verifyBudgetMs?: number; timeoutMs?: number } = {},
  ) => adapterFor(cfg, { now, ...opts });
  const liveKeys = (account = A) => sim.keys(account).filter((k) => k.status !== "removed");
  const current = () => sim.seedKey(A, { label: "current", permissions: TRADING_SCOPE, ips: ["127.0.0.1"] });

  beforeAll(async () => {
    sim = await startBybitSimulator({ seed: 4, maxKeys: 30, now, timeoutMs: 1_000 });
    const cred = sim.createAccount(A);
    // Bound to this machine: an unbound master key would expire with the 90-day test below.
    const master = sim.addMasterKey(A, { ips: ["127.0.0.1"] });
    secrets.push(cred.apiSecret, master.apiSecret);
    config = adminConfig(sim, { ...cred, ...master }, { maxKeys: 30 });
    proxy = await startProxy(sim.url);
    viaProxy = { ...config, endpoint: proxy.url };
  });
  beforeEach(() => {
    sim.clearFaults();
    proxy.set(() => undefined);
  });
  afterAll(async () => {
    await proxy.close();
    await sim.close();
  });

  it("rotates: lists pages, creates with the same scope and IP binding, verifies, removes", async () => {
    for (let i = 0; i < 21; i++)
      secrets.push(sim.seedKey(A, { label: `filler-${i}`, permissions: TRADING_SCOPE }).secret);
    const seeded = current();
    secrets.push(seeded.secret);
    const bybit = exchange();
    const listing = await bybit.listKeys(A);
    expect(listing.keys.length).toBe(22); // over two pages of 20
    const cur = listing.keys.find((k) => k.keyId === seeded.keyId);
    expect(cur).toMatchObject({ label: "current", ipAllowlist: ["127.0.0.1"], status: "active" });
    expect(cur?.expiresAt).toBeUndefined();
    const unbound = listing.keys.find((k) => k.label === "filler-0");
    expect(Date.parse(unbound?.expiresAt ?? "") - now()).toBeGreaterThan(89 * DAY);

    const created = await bybit.createKey(A, {
      label: "ks_0123456789ab",
      permissions: cur?.permissions ?? [],
      ipAllowlist: ["127.0.0.1"],
    });
    secrets.push(created.secret);
    expect(created).toMatchObject({
      label: "ks_0123456789ab",
      ipAllowlist: ["127.0.0.1"],
      permissions: cur?.permissions,
    });
    await bybit.verifyKey(A, created);
    expect(await bybit.removeKey(A, created.keyId)).toBe("removed");
    expect(await bybit.removeKey(A, created.keyId)).toBe("not-found");
    for (const key of liveKeys().filter((k) => k.label.startsWith("filler-")))
      await bybit.removeKey(A, key.keyId);
  });

  it("maps a bad signature (wrong master secret) to a permanent 10004 that does not echo the secret", async () => {
    const wrong = `${config.apiSecret.slice(0, -3)}XYZ`;
    secrets.push(wrong);
    const err = await failed(exchange({ ...config, apiSecret: wrong }).listKeys(A));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.exchangeCode).toBe("10004");
    expect(err.message).toMatch(/signature rejected/);
  });

  it("maps a stale or early timestamp to a permanent 10002 naming the clock", async () => {
    const stale = await failed(exchange(config, { now: () => now() - 6_000 }).listKeys(A));
    expect([stale.constructor, stale.exchangeCode]).toEqual([ExchangePermanentError, "10002"]);
    expect(stale.message).toMatch(/clock/);
    const early = await failed(exchange(config, { now: () => now() + 1_500 }).listKeys(A));
    expect(early.exchangeCode).toBe("10002");
    // A wider recv window accepts what the default refused.
    await exchange({ ...config, recvWindowMs: 10_000 }, { now: () => now() - 6_000 }).listKeys(A);
  });

  it("maps a full sub-account to ExchangeKeyLimitError with Bybit's code, creating nothing", async () => {
    const cred = sim.createAccount("acct-full", { maxKeys: 2 });
    secrets.push(cred.apiSecret);
    const full = adminConfig(sim, cred, { maxKeys: 2 });
    for (const label of ["one", "two"])
      secrets.push(sim.seedKey("acct-full", { label, permissions: TRADING_SCOPE }).secret);
    const err = await failed(
      exchange(full).createKey("acct-full", {
        label: "ks_over",
        permissions: ["Spot:SpotTrade", "readWrite"],
      }),
    );
    expect(err).toBeInstanceOf(ExchangeKeyLimitError);
    expect(err.exchangeCode).toBe("10001");
    expect(err.message).toMatch(/holds 2 keys \(limit 2/);
    expect(liveKeys("acct-full")).toHaveLength(2);
  });

  it("refuses a scope or IP list it cannot express exactly, before any call", async () => {
    const before = sim.requestLog().length;
    const bybit = exchange();
    for (const input of [
      { label: "ks_x", permissions: ["Spot:SpotTrade"] },
      { label: "ks_x", permissions: ["BlockTrade:BlockTrade", "readWrite"] },
      { label: "ks_x", permissions: ["Spot:SpotTrade", "readWrite"], ipAllowlist: ["*"] },
      { label: "", permissions: ["Spot:SpotTrade", "readWrite"] },
    ]) {
      const err = await failed(bybit.createKey(A, input));
      expect(err).toBeInstanceOf(ExchangePermanentError);
      expect(err.message).toMatch(/nothing was created/);
    }
    expect(sim.requestLog().length).toBe(before);
  });

  it("refuses an answer a proxy made up: 404 pages on list, remove and verify are never 'not-found'", async () => {
    const seeded = current();
    secrets.push(seeded.secret);
    const bybit = exchange(viaProxy);
    const page404 = { status: 404, body: "<html><body>404 Not Found</body></html>" };
    proxy.set((req) => (req.url?.startsWith("/v5/user/sub-apikeys") ? page404 : undefined));
    const list = await failed(bybit.listKeys(A));
    expect([list.constructor, (list as ExchangePermanentError).status]).toEqual([
      ExchangePermanentError,
      404,
    ]);
    expect(await failed(bybit.removeKey(A, seeded.keyId))).toBeInstanceOf(ExchangePermanentError);
    proxy.set((req) => (req.url?.startsWith("/v5/user/delete-sub-api") ? page404 : undefined));
    const remove = await failed(bybit.removeKey(A, seeded.keyId));
    expect(remove.message).toMatch(/404 without Bybit's envelope/);
    expect(liveKeys().some((k) => k.keyId === seeded.keyId)).toBe(true);
    proxy.set((req) => (req.url?.startsWith("/v5/user/query-api") ? page404 : undefined));
    expect(await failed(bybit.verifyKey(A, seeded))).toBeInstanceOf(ExchangePermanentError);
    proxy.set(() => undefined);
    expect(await bybit.removeKey(A, seeded.keyId)).toBe("removed");
  });

  it("refuses a 2xx that is not Bybit's documented answer", async () => {
    const seeded = current();
    secrets.push(seeded.secret);
    const bybit = exchange(viaProxy);
    proxy.set((req) =>
      req.url?.startsWith("/v5/user/create-sub-api")
        ? { status: 200, body: "<html>Sign in</html>" }
        : undefined,
    );
    expect(
      await failed(bybit.createKey(A, { label: "ks_login", permissions: ["Spot:SpotTrade", "readWrite"] })),
    ).toBeInstanceOf(ExchangePermanentError);
    proxy.set((req) =>
      req.url?.startsWith("/v5/user/delete-sub-api")
        ? { status: 200, body: '{"ok":true}', contentType: "application/json" }
        : undefined,
    );
    const remove = await failed(bybit.removeKey(A, seeded.keyId));
    expect(remove).toBeInstanceOf(ExchangePermanentError);
    expect(liveKeys().some((k) => k.keyId === seeded.keyId)).toBe(true);
    proxy.set((req) =>
      req.url?.startsWith("/v5/user/sub-apikeys")
        ? { rewrite: (text) => text.replace(/"ips":\["[^\]]*\],/g, "") }
        : undefined,
    );
    const list = await failed(bybit.listKeys(A));
    expect(list.message).toMatch(/unexpected result shape \(result\.\d+\.ips/);
    proxy.set((req) =>
      req.url?.startsWith("/v5/user/query-api")
        ? { rewrite: (text) => text.replace(/"result":\{.*\},"retExtInfo"/, '"result":{},"retExtInfo"') }
        : undefined,
    );
    expect((await failed(bybit.verifyKey(A, seeded))).message).toMatch(/unexpected result shape/);
    proxy.set(() => undefined);
    await bybit.removeKey(A, seeded.keyId);
  });

  it("refuses an oversized answer without reading it whole", async () => {
    proxy.set(() => ({
      status: 200,
      body: Buffer.alloc(2 * 1024 * 1024, 0x20),
      contentType: "application/json",
    }));
    expect(await failed(exchange(viaProxy).listKeys(A))).toBeInstanceOf(ResponseTooLargeError);
  });

  it("retries rate limits and outages, and gives up on the edge's 403", async () => {
    const bybit = exchange(config, { timeoutMs: 300 });
    sim.setFault("listKeys", { failNext: 1, kind: "429" });
    const limited = await failed(bybit.listKeys(A));
    expect([limited.constructor, limited.exchangeCode]).toEqual([ExchangeRetryableError, "10006"]);
    expect(limited.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    for (const kind of ["5xx", "timeout"] as const) {
      sim.setFault("listKeys", { failNext: 1, kind });
      expect(await failed(bybit.listKeys(A))).toBeInstanceOf(ExchangeRetryableError);
    }
    sim.setFault("listKeys", { failNext: 1, kind: "4xx" });
    expect((await failed(bybit.listKeys(A))).message).toMatch(/403 without Bybit's envelope/);
    proxy.set(() => ({ status: 429, body: "slow down" }));
    expect(await failed(exchange(viaProxy).listKeys(A))).toBeInstanceOf(ExchangeRetryableError);
  });

  it("settles a removal whose answer was lost: retryable now, not-found after", async () => {
    const seeded = current();
    const bybit = exchange();
    sim.setFault("removeKey", { failNext: 1, kind: "5xx-after-effect" });
    expect(await failed(bybit.removeKey(A, seeded.keyId))).toBeInstanceOf(ExchangeRetryableError);
    expect(await bybit.removeKey(A, seeded.keyId)).toBe("not-found");
  });

  it("refuses a credential that manages another sub-account, or is not a master's", async () => {
    const b = sim.createAccount("acct-b");
    secrets.push(b.apiSecret);
    const seeded = current();
    secrets.push(seeded.secret);
    const otherMaster = adminConfig(sim, { apiKey: b.apiKey, apiSecret: b.apiSecret, subuid: config.subuid });
    const wrong = exchange(otherMaster);
    expect((await failed(wrong.listKeys(A))).message).toMatch(/has no sub-account/);
    expect(await failed(wrong.removeKey(A, seeded.keyId))).toBeInstanceOf(ExchangePermanentError);
    const create = await failed(
      wrong.createKey(A, { label: "ks_wrong", permissions: ["Spot:SpotTrade", "readWrite"] }),
    );
    expect(create.exchangeCode).toBe("500010");
    const subKey = adminConfig(sim, {
      apiKey: seeded.keyId,
      apiSecret: seeded.secret,
      subuid: config.subuid,
    });
    expect((await failed(exchange(subKey).listKeys(A))).exchangeCode).toBe("10005");
    const bKey = sim.seedKey("acct-b", { label: "b", permissions: TRADING_SCOPE, ips: ["127.0.0.1"] });
    secrets.push(bKey.secret);
    expect((await failed(exchange().verifyKey(A, bKey))).message).toMatch(/not of sub-account/);
    expect(liveKeys().some((k) => k.keyId === seeded.keyId)).toBe(true);
  });

  it("never deletes a key of a sibling sub-account of the same master", async () => {
    const sibling = sim.createAccount("acct-sibling", { master: A });
    const theirs = sim.seedKey("acct-sibling", { label: "theirs", permissions: TRADING_SCOPE });
    secrets.push(theirs.secret);
    expect(sibling.apiKey).not.toBe(config.apiKey);
    expect(await exchange().removeKey(A, theirs.keyId)).toBe("not-found");
    expect(sim.keys("acct-sibling")[0]?.status).toBe("active");
  });

  it("verifies with the key itself: a wrong secret at once, a removed key after the budget, an IP outside the binding", async () => {
    const bybit = exchange(config, { verifyBudgetMs: 600 });
    const seeded = current();
    secrets.push(seeded.secret);
    const wrong = await failed(
      bybit.verifyKey(A, { keyId: seeded.keyId, secret: `${seeded.secret.slice(0, -2)}zz` }),
    );
    expect(wrong.exchangeCode).toBe("10004");
    await bybit.removeKey(A, seeded.keyId);
    const startedAt = Date.now();
    const removed = await failed(bybit.verifyKey(A, seeded));
    expect([removed.constructor, removed.exchangeCode]).toEqual([ExchangePermanentError, "10003"]);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200); // retried: a new key may not have propagated
    const elsewhere = await bybit.createKey(A, {
      label: "ks_elsewhere",
      permissions: ["Spot:SpotTrade", "readWrite"],
      ipAllowlist: ["203.0.113.9"],
    });
    secrets.push(elsewhere.secret);
    const refused = await failed(bybit.verifyKey(A, elsewhere));
    expect(refused).toBeInstanceOf(ExchangeIpRefusedError);
    expect(refused.message).toMatch(/unmatched IP.*egress/);
    await bybit.removeKey(A, elsewhere.keyId);
  });

  it("reports a key Bybit expired (90 days unbound) as disabled with its expiry, and still removes it", async () => {
    const old = sim.seedKey(A, { label: "old", permissions: TRADING_SCOPE });
    secrets.push(old.secret);
    offset += 91 * DAY;
    try {
      const listed = (await exchange().listKeys(A)).keys.find((k) => k.keyId === old.keyId);
      expect(listed?.status).toBe("disabled");
      expect(Date.parse(listed?.expiresAt ?? "")).toBeLessThan(now());
      expect((await failed(exchange().verifyKey(A, old))).exchangeCode).toBe("33004");
      expect(await exchange().removeKey(A, old.keyId)).toBe("removed");
    } finally {
      offset -= 91 * DAY;
    }
  });

  it("refuses a key granted other than asked, leaving it under its label for the abort", async () => {
    proxy.set((req) =>
      req.url?.startsWith("/v5/user/create-sub-api")
        ? { rewrite: (text) => text.replace('"readOnly":1', '"readOnly":0') }
        : undefined,
    );
    const err = await failed(
      exchange(viaProxy).createKey(A, { label: "ks_granted", permissions: ["Spot:SpotTrade", "readOnly"] }),
    );
    expect(err.message).toMatch(
      /granted \[.*readWrite\] instead of \[.*readOnly\].*abort removes it by its label/,
    );
    const orphan = liveKeys().find((k) => k.label === "ks_granted");
    expect(orphan?.readOnly).toBe(true);
    if (orphan) await exchange().removeKey(A, orphan.keyId);
  });

  it("accepts a create answer echoing groups that grant nothing on a sub-account key (docs: always [])", async () => {
    proxy.set((req) =>
      req.url?.startsWith("/v5/user/create-sub-api")
        ? {
            rewrite: (text) =>
              text.replace('"permissions":{', '"permissions":{"NFT":["NFT"],"BlockTrade":["BlockTrade"],'),
          }
        : undefined,
    );
    const created = await exchange(viaProxy).createKey(A, {
      label: "ks_inertecho",
      permissions: ["Spot:SpotTrade", "readWrite"],
    });
    secrets.push(created.secret);
    expect(created.permissions).toContain("Spot:SpotTrade");
    await exchange().removeKey(A, created.keyId);
  });

  it("refuses a create that grants Earn unasked (Bybit's own example does): broader, left under its label for the abort", async () => {
    proxy.set((req) =>
      req.url?.startsWith("/v5/user/create-sub-api")
        ? { rewrite: (text) => text.replace('"Earn":[]', '"Earn":["Earn"]') }
        : undefined,
    );
    const err = await failed(
      exchange(viaProxy).createKey(A, { label: "ks_earnecho", permissions: ["Spot:SpotTrade", "readWrite"] }),
    );
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toMatch(/broader than the replaced key: Earn:Earn.*abort removes it by its label/);
    const orphan = liveKeys().find((k) => k.label === "ks_earnecho");
    expect(orphan).toBeDefined();
    if (orphan) await exchange().removeKey(A, orphan.keyId);
  });

  it("refuses a created key that the listing shows under another note, naming its id", async () => {
    proxy.set((req) =>
      req.url?.startsWith("/v5/user/sub-apikeys")
        ? { rewrite: (text) => text.replace('"note":"ks_notecheck"', '"note":"ks_notechec"') }
        : undefined,
    );
    const err = await failed(
      exchange(viaProxy).createKey(A, {
        label: "ks_notecheck",
        permissions: ["Spot:SpotTrade", "readWrite"],
      }),
    );
    const made = liveKeys().find((k) => k.label === "ks_notecheck");
    expect(err.message).toContain(`key ${made?.keyId} was created but is listed with note "ks_notechec"`);
    if (made) await exchange().removeKey(A, made.keyId);
  });

  it("has no disable and no enable; says that unbound keys expire", async () => {
    expect(await exchange().capabilities(A)).toEqual({
      exchange: "bybit",
      disable: false,
      limitCounts: "active",
      unboundKeyExpiry: expect.stringContaining("90 days"),
      activityAttribution: "account",
    });
    expect(await failed(exchange().disableKey(A, "KEY"))).toBeInstanceOf(ExchangePermanentError);
    expect(await failed(exchange().enableKey(A, "KEY"))).toBeInstanceOf(ExchangePermanentError);
  });

  it("put no secret in any error message, raw or sanitized", () => {
    expect(errors.length).toBeGreaterThan(30);
    for (const err of errors) {
      for (const text of [err.message, sanitizeErrorMessage(err)]) {
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
    }
  });
});
