import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BybitAccountCredential,
  type BybitSimulator,
  startBybitSimulator,
  tradingCall,
} from "../../harness/local/exchange/bybit";
import {
  CONSUMER_HOST_IP,
  EGRESS_IP,
  fetchFrom,
  OUTSIDE_IP,
} from "../../harness/local/exchange/caller-address";
import { type RawAnswer, rawCall, TRADING_SCOPE } from "./bybit-helpers";

const DAY = 24 * 3600 * 1000;

/** The simulator refuses what Bybit refuses, with Bybit's retCodes, over real HTTP. */
describe("Bybit simulator", () => {
  let sim: BybitSimulator;
  let clock = Date.now();
  let master: BybitAccountCredential;
  let other: BybitAccountCredential;
  const masterKey = () => ({ apiKey: master.apiKey, secret: master.apiSecret });
  const secrets: string[] = [];

  beforeAll(async () => {
    sim = await startBybitSimulator({ seed: 2, maxKeys: 30, now: () => clock, timeoutMs: 500 });
    master = sim.createAccount("acct-a");
    other = sim.createAccount("acct-b");
    secrets.push(master.apiSecret, other.apiSecret);
  });
  afterAll(async () => {
    await sim.close();
  });

  const create = (
    cred: BybitAccountCredential,
    body: Record<string, unknown>,
    key = { apiKey: cred.apiKey, secret: cred.apiSecret },
  ) =>
    rawCall(sim, key, "POST", "/v5/user/create-sub-api", {
      subuid: Number(cred.subuid),
      readOnly: 0,
      permissions: TRADING_SCOPE,
      ...body,
    });

  describe("signing (the guide's rules: HMAC over timestamp + key + recv window + payload)", () => {
    it("accepts a well-signed request and answers Bybit's envelope", async () => {
      const res = await rawCall(sim, masterKey(), "GET", "/v5/user/query-api");
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        retCode: 0,
        result: { apiKey: master.apiKey, isMaster: true, parentUid: "0" },
      });
      expect(typeof (res.body as { time?: unknown }).time).toBe("number");
    });

    it("refuses a wrong signature with 10004, HTTP 200", async () => {
      const res = await rawCall(
        sim,
        { apiKey: master.apiKey, secret: `${master.apiSecret}x` },
        "GET",
        "/v5/user/query-api",
      );
      expect([res.status, res.body.retCode]).toEqual([200, 10004]);
    });

    it("refuses a signature over another payload than the one sent (a query changed in transit)", async () => {
      const res = await rawCall(
        sim,
        masterKey(),
        "GET",
        "/v5/user/sub-apikeys",
        { subMemberId: master.subuid },
        {
          tamper: (h) => {
            h["x-bapi-sign"] = (h["x-bapi-sign"] as string).replace(/^./, (c) => (c === "0" ? "1" : "0"));
          },
        },
      );
      expect(res.body.retCode).toBe(10004);
    });

    it("enforces server_time - recv_window <= timestamp < server_time + 1000 (10002)", async () => {
      const at = (nowMs: number, recvWindowMs = 5_000) =>
        rawCall(sim, masterKey(), "GET", "/v5/user/query-api", {}, { nowMs, recvWindowMs }).then(
          (r) => r.body.retCode,
        );
      expect(await at(clock - 5_000)).toBe(0);
      expect(await at(clock - 5_001)).toBe(10002);
      expect(await at(clock - 20_000, 30_000)).toBe(0);
      expect(await at(clock + 999)).toBe(0);
      expect(await at(clock + 1_000)).toBe(10002);
    });

    it("has no nonce: the same signed request replays inside the window, and not after it", async () => {
      const url = new URL("/v5/user/query-api", sim.url);
      const replay: { headers: Record<string, string> } = { headers: {} };
      const first = await rawCall(
        sim,
        masterKey(),
        "GET",
        "/v5/user/query-api",
        {},
        {
          tamper: (h) => {
            replay.headers = { ...h };
          },
        },
      );
      expect(first.body.retCode).toBe(0);
      const again = (await (await fetch(url, { headers: replay.headers })).json()) as RawAnswer;
      expect(again.retCode).toBe(0);
      clock += 6_000;
      const late = (await (await fetch(url, { headers: replay.headers })).json()) as RawAnswer;
      expect(late.retCode).toBe(10002);
    });

    it("refuses an unknown key with 10003, and missing auth headers with HTTP 401", async () => {
      const unknown = await rawCall(
        sim,
        { apiKey: "AAAAAAAAAAAAAAAAAA", secret: "x" },
        "GET",
        "/v5/user/query-api",
      );
      expect(unknown.body.retCode).toBe(10003);
      const bare = await fetch(new URL("/v5/user/query-api", sim.url));
      expect(bare.status).toBe(401);
      expect(((await bare.json()) as RawAnswer).retCode).toBe(10003);
    });
  });

  describe("the master/sub-account rule", () => {
    it("lets a master create a key for its own sub-account only (500010 for another's)", async () => {
      const own = await create(master, { note: "ks_own" });
      expect(own.body.retCode).toBe(0);
      expect(own.body.result).toMatchObject({
        note: "ks_own",
        readOnly: 0,
        permissions: { Spot: ["SpotTrade"] },
      });
      secrets.push(own.body.result.secret);
      const foreign = await create(other, {}, masterKey());
      expect(foreign.body.retCode).toBe(500010);
      const listForeign = await rawCall(sim, masterKey(), "GET", "/v5/user/sub-apikeys", {
        subMemberId: other.subuid,
      });
      expect(listForeign.body.retCode).toBe(500010);
    });

    it("refuses key management with a sub-account key, or a read-only or transfer-less master key (10005)", async () => {
      const sub = sim.seedKey("acct-a", { label: "sub", permissions: TRADING_SCOPE });
      secrets.push(sub.secret);
      const asSub = { apiKey: sub.keyId, secret: sub.secret };
      expect((await create(master, {}, asSub)).body.retCode).toBe(10005);
      const list = await rawCall(sim, asSub, "GET", "/v5/user/sub-apikeys", { subMemberId: master.subuid });
      expect(list.body.retCode).toBe(10005);
      expect((await rawCall(sim, asSub, "GET", "/v5/user/submembers")).body.retCode).toBe(10005);
      const readOnly = sim.addMasterKey("acct-a", { readOnly: true });
      const noTransfer = sim.addMasterKey("acct-a", { wallet: [] });
      secrets.push(readOnly.apiSecret, noTransfer.apiSecret);
      expect(
        (await create(master, {}, { apiKey: readOnly.apiKey, secret: readOnly.apiSecret })).body.retCode,
      ).toBe(10005);
      expect(
        (await create(master, {}, { apiKey: noTransfer.apiKey, secret: noTransfer.apiSecret })).body.retCode,
      ).toBe(10005);
    });

    it("deletes a named sub key with the master key, or a sub key with itself (never naming another)", async () => {
      const a = sim.seedKey("acct-a", { label: "victim", permissions: TRADING_SCOPE });
      const b = sim.seedKey("acct-a", { label: "self", permissions: { Wallet: ["AccountTransfer"] } });
      secrets.push(a.secret, b.secret);
      expect((await rawCall(sim, masterKey(), "POST", "/v5/user/delete-sub-api", {})).body.retCode).toBe(
        10001,
      );
      const asB = { apiKey: b.keyId, secret: b.secret };
      expect(
        (await rawCall(sim, asB, "POST", "/v5/user/delete-sub-api", { apikey: a.keyId })).body.retCode,
      ).toBe(10001);
      expect(
        (await rawCall(sim, masterKey(), "POST", "/v5/user/delete-sub-api", { apikey: a.keyId })).body,
      ).toMatchObject({
        retCode: 0,
        result: {},
      });
      expect((await rawCall(sim, asB, "POST", "/v5/user/delete-sub-api", {})).body.retCode).toBe(0);
      expect((await rawCall(sim, asB, "GET", "/v5/user/query-api")).body.retCode).toBe(10003);
      const again = await rawCall(sim, masterKey(), "POST", "/v5/user/delete-sub-api", { apikey: a.keyId });
      expect(again.body.retCode).toBe(10001);
    });

    it("lets another master neither delete nor list this sub-account's keys", async () => {
      const key = sim.seedKey("acct-a", { label: "guarded", permissions: TRADING_SCOPE });
      secrets.push(key.secret);
      const asOther = { apiKey: other.apiKey, secret: other.apiSecret };
      expect(
        (await rawCall(sim, asOther, "POST", "/v5/user/delete-sub-api", { apikey: key.keyId })).body.retCode,
      ).toBe(10001);
      expect(sim.keys("acct-a").find((k) => k.keyId === key.keyId)?.status).toBe("active");
      const subs = await rawCall(sim, asOther, "GET", "/v5/user/submembers");
      expect(subs.body.result.subMembers.map((m: { uid: string }) => m.uid)).toEqual([other.subuid]);
    });
  });

  describe("sub-account keys", () => {
    it("pages the list with a cursor (limit 1..20), to an empty nextPageCursor", async () => {
      const cred = sim.createAccount("acct-pages");
      secrets.push(cred.apiSecret);
      for (let i = 0; i < 23; i++) sim.seedKey("acct-pages", { label: `k${i}`, permissions: TRADING_SCOPE });
      const key = { apiKey: cred.apiKey, secret: cred.apiSecret };
      const page = (params: Record<string, string>) =>
        rawCall(sim, key, "GET", "/v5/user/sub-apikeys", { subMemberId: cred.subuid, ...params });
      expect((await page({ limit: "21" })).body.retCode).toBe(10001);
      expect((await page({ cursor: "bm90LWEtY3Vyc29y" })).body.retCode).toBe(10001);
      const first = await page({});
      expect(first.body.result.result).toHaveLength(20);
      // Bybit's form: already percent-encoded, to be sent back verbatim (docs/exchanges.md).
      const cursor: string = first.body.result.nextPageCursor;
      expect(cursor).toMatch(/^last%3D[A-Za-z0-9]+%26page%3D2$/);
      const query = (c: string) => `cursor=${c}&limit=20&subMemberId=${cred.subuid}`;
      const twice = await rawCall(
        sim,
        key,
        "GET",
        "/v5/user/sub-apikeys",
        {},
        { query: query(encodeURIComponent(cursor)) },
      );
      expect(twice.body.retCode).toBe(10001);
      const raw = await rawCall(
        sim,
        key,
        "GET",
        "/v5/user/sub-apikeys",
        {},
        { query: query(decodeURIComponent(cursor)) },
      );
      expect(raw.body.retCode).not.toBe(0); // a raw cursor's `&` and `=` split it into other parameters
      const second = await rawCall(sim, key, "GET", "/v5/user/sub-apikeys", {}, { query: query(cursor) });
      expect(second.body.result.result.map((k: { note: string }) => k.note)).toEqual(["k20", "k21", "k22"]);
      expect(second.body.result.nextPageCursor).toBe("");
      expect(JSON.stringify([first.body, second.body])).not.toMatch(/"secret":"(?!\*{6})/);
    });

    it("stops at the sub-account's key limit", async () => {
      const cred = sim.createAccount("acct-full", { maxKeys: 2 });
      sim.seedKey("acct-full", { label: "one", permissions: TRADING_SCOPE });
      sim.seedKey("acct-full", { label: "two", permissions: TRADING_SCOPE });
      const refused = await create(cred, { note: "three" });
      expect(refused.body.retCode).toBe(10001);
      expect(refused.body.retMsg).toMatch(/maximum is 2/);
    });

    it("validates scope as Bybit documents it; Derivatives is assigned, not requested", async () => {
      const bad = [{ Spot: ["Withdraw"] }, { BlockTrade: ["BlockTrade"] }, {}, { Spot: "SpotTrade" }];
      for (const permissions of bad) expect((await create(master, { permissions })).body.retCode).toBe(10001);
      expect((await create(master, { readOnly: 2 })).body.retCode).toBe(10001);
      expect((await create(master, { ips: "10.0.0.0/8" })).body.retCode).toBe(10001);
      const notJson = await rawCall(
        sim,
        masterKey(),
        "POST",
        "/v5/user/create-sub-api",
        {},
        { body: "subuid=1" },
      );
      expect([notJson.body.retCode, notJson.body.retMsg]).toEqual([10001, "body not json"]);
      const made = await create(master, {
        permissions: { Spot: ["SpotTrade"], Derivatives: [] },
        ips: "127.0.0.1",
      });
      const listed = sim.keys("acct-a").find((k) => k.keyId === made.body.result.apiKey);
      expect(listed?.permissions.Derivatives).toEqual(["DerivativesTrade"]);
      expect(listed?.ips).toEqual(["127.0.0.1"]);
      secrets.push(made.body.result.secret);
    });

    it("expires a key without an IP binding after 90 days; a bound key never", async () => {
      const cred = sim.createAccount("acct-expiry");
      // The master key is a key like any other: unbound, it would expire with the others.
      const boundMaster = sim.addMasterKey("acct-expiry", { ips: ["127.0.0.1"] });
      const key = { apiKey: boundMaster.apiKey, secret: boundMaster.apiSecret };
      const unbound = sim.seedKey("acct-expiry", { label: "unbound", permissions: TRADING_SCOPE });
      const bound = sim.seedKey("acct-expiry", {
        label: "bound",
        permissions: TRADING_SCOPE,
        ips: ["127.0.0.1"],
      });
      const list = async () =>
        (await rawCall(sim, key, "GET", "/v5/user/sub-apikeys", { subMemberId: cred.subuid })).body.result
          .result as Array<{
          note: string;
          status: number;
          deadlineDay: number;
          expiredAt: string;
          ips: string[];
        }>;
      const fresh = await list();
      expect(fresh.find((k) => k.note === "unbound")).toMatchObject({
        status: 3,
        deadlineDay: 90,
        ips: ["*"],
      });
      expect(Date.parse(fresh[0]?.expiredAt ?? "") - clock).toBeGreaterThan(89 * DAY);
      expect(fresh.find((k) => k.note === "bound")).toMatchObject({ status: 1, ips: ["127.0.0.1"] });
      clock += 85 * DAY;
      expect((await list()).find((k) => k.note === "unbound")?.status).toBe(4);
      clock += 6 * DAY;
      expect((await list()).find((k) => k.note === "unbound")?.status).toBe(2);
      const expired = await tradingCall(sim.url, unbound, { now: () => clock });
      expect(expired).toMatchObject({ ok: false, retCode: 33004 });
      expect((await tradingCall(sim.url, bound, { now: () => clock })).ok).toBe(true);
      const unboundMaster = await rawCall(
        sim,
        { apiKey: cred.apiKey, secret: cred.apiSecret },
        "GET",
        "/v5/user/query-api",
      );
      expect(unboundMaster.body.retCode).toBe(33004);
      clock -= 91 * DAY;
    });

    it("refuses a bound key from an address outside its binding (10010)", async () => {
      const key = sim.seedKey("acct-a", {
        label: "elsewhere",
        permissions: TRADING_SCOPE,
        ips: ["203.0.113.7"],
      });
      expect(await tradingCall(sim.url, key, { now: () => clock })).toMatchObject({
        ok: false,
        retCode: 10010,
      });
    });
  });

  describe("the key's IP binding, judged by the caller's address", () => {
    const UNMATCHED = "Unmatched IP, please check your API key's bound IP addresses.";

    it("serves a caller on the trading key's binding and refuses one outside it with 10010 and Bybit's message", async () => {
      const key = sim.seedKey("acct-a", {
        label: "bound-two",
        permissions: TRADING_SCOPE,
        ips: [EGRESS_IP, CONSUMER_HOST_IP],
      });
      const asKey = { apiKey: key.keyId, secret: key.secret };
      const from = (ip: string) =>
        rawCall(sim, asKey, "GET", "/v5/user/query-api", {}, { fetchImpl: fetchFrom(ip) });

      expect((await from(EGRESS_IP)).body).toMatchObject({
        retCode: 0,
        result: { ips: [EGRESS_IP, CONSUMER_HOST_IP] },
      });
      expect((await from(CONSUMER_HOST_IP)).body.retCode).toBe(0);
      const refused = await from(OUTSIDE_IP);
      expect([refused.status, refused.body.retCode, refused.body.retMsg]).toEqual([200, 10010, UNMATCHED]);
      const trading = { now: () => clock, fetchImpl: fetchFrom(CONSUMER_HOST_IP) };
      expect((await tradingCall(sim.url, key, trading)).ok).toBe(true);
    });

    it("holds the master (admin) key to its binding: called from elsewhere it creates nothing", async () => {
      const cred = sim.createAccount("acct-bound-master", { masterIps: [EGRESS_IP] });
      const before = sim.keys("acct-bound-master").length;

      const fromOutside = await create(cred, { note: "outside" });
      expect(fromOutside.body.retCode).toBe(10010);
      const listed = await rawCall(
        sim,
        { apiKey: cred.apiKey, secret: cred.apiSecret },
        "GET",
        "/v5/user/sub-apikeys",
        { subMemberId: cred.subuid },
        { fetchImpl: fetchFrom(EGRESS_IP) },
      );
      expect(listed.body.retCode).toBe(0);
      expect(sim.keys("acct-bound-master")).toHaveLength(before);
    });

    it("judges the signature first: a forged call from outside gets 10004, not the binding", async () => {
      const key = sim.seedKey("acct-a", { label: "sig-first", permissions: TRADING_SCOPE, ips: [EGRESS_IP] });
      const forged = await rawCall(sim, { apiKey: key.keyId, secret: "wrong" }, "GET", "/v5/user/query-api");
      expect(forged.body.retCode).toBe(10004);
    });
  });

  describe("faults, routes and the request log", () => {
    it("renders faults as Bybit's edge and API do", async () => {
      const list = () =>
        rawCall(sim, masterKey(), "GET", "/v5/user/sub-apikeys", { subMemberId: master.subuid });
      sim.setFault("listKeys", { failNext: 1, kind: "4xx" });
      expect((await list()).status).toBe(403);
      sim.setFault("listKeys", { failNext: 1, kind: "5xx" });
      const gateway = await list();
      expect([gateway.status, gateway.body.retCode]).toEqual([503, undefined]);
      sim.setFault("listKeys", { failNext: 1, kind: "429" });
      const limited = await list();
      expect([limited.status, limited.body.retCode]).toEqual([200, 10006]);
      sim.clearFaults();
      expect((await list()).body.retCode).toBe(0);
    });

    it("answers an unknown path with 404 and retCode 10017", async () => {
      const res = await rawCall(sim, masterKey(), "GET", "/v5/user/no-such-thing");
      expect([res.status, res.body.retCode]).toEqual([404, 10017]);
    });

    it("logs which key each call used, a removed key's calls included, and never a secret", async () => {
      const key = sim.seedKey("acct-a", { label: "logged", permissions: TRADING_SCOPE, ips: ["127.0.0.1"] });
      secrets.push(key.secret);
      await rawCall(sim, masterKey(), "POST", "/v5/user/delete-sub-api", { apikey: key.keyId });
      expect((await tradingCall(sim.url, key, { now: () => clock })).retCode).toBe(10003);
      await rawCall(sim, { apiKey: key.secret.slice(0, 18), secret: "x" }, "GET", "/v5/user/query-api");
      const log = sim.requestLog();
      expect(log.filter((e) => e.keyId === key.keyId).map((e) => e.keyState)).toEqual(["removed"]);
      expect(
        log.some((e) => e.keyState === "admin" && e.endpoint === "removeKey" && e.account === "acct-a"),
      ).toBe(true);
      const text = JSON.stringify(log);
      for (const secret of secrets) expect(text).not.toContain(secret);
    });

    it("serves its control plane over HTTP", async () => {
      const call = async (method: string, path: string, input?: unknown) => {
        const res = await fetch(new URL(path, sim.url), {
          method,
          ...(input ? { body: JSON.stringify(input) } : {}),
        });
        // biome-ignore lint/suspicious/noExplicitAny: each control-plane answer has its own shape
        const body: any = res.status === 204 ? undefined : await res.json();
        return { status: res.status, body };
      };
      const made = await call("POST", "/_sim/accounts", { account: "acct-cp", maxKeys: 3 });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ account: "acct-cp", subuid: expect.stringMatching(/^\d+$/) });
      const seeded = await call("POST", "/_sim/accounts/acct-cp/keys", {
        label: "x",
        permissions: TRADING_SCOPE,
      });
      expect(seeded.status).toBe(201);
      expect((await call("GET", "/_sim/accounts/acct-cp/keys")).body.keys).toHaveLength(1);
      expect((await call("POST", "/_sim/faults", { endpoint: "account", failNext: 1 })).status).toBe(204);
      expect((await call("DELETE", "/_sim/faults")).status).toBe(204);
      expect((await call("GET", "/_sim/requests")).body.requests.length).toBeGreaterThan(0);
    });
  });
});
