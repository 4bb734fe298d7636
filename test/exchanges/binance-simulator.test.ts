import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BinanceAccountCredential,
  type BinanceSimulator,
  startBinanceSimulator,
} from "../../harness/local/exchange/binance";
import { CONSUMER_HOST_IP, EGRESS_IP, fetchFrom } from "../../harness/local/exchange/caller-address";
import { rawCall, referenceSignature, TRADING_FLAGS } from "./binance-helpers";

const KEYS = "/sapi/v1/sub-account/subAccountApi";

describe("Binance simulator: refuses what Binance refuses", () => {
  let sim: BinanceSimulator;
  let admin: BinanceAccountCredential;
  let master: { apiKey: string; secret: string };

  beforeAll(async () => {
    sim = await startBinanceSimulator({ seed: 3, maxKeys: 10 });
    admin = sim.createAccount("acct-a");
    master = { apiKey: admin.apiKey, secret: admin.apiSecret };
  });
  afterAll(() => sim.close());

  it("answers a request signed by independent code over the percent-encoded query", async () => {
    sim.seedKey("acct-a", { label: "seeded", flags: TRADING_FLAGS });
    const res = await rawCall(sim, master, "GET", KEYS, {
      email: admin.subAccountEmail,
      page: "1",
      size: "100",
    });

    expect(res.status).toBe(200);
    expect(res.body.total).toBe(1);
    expect(res.body.rows[0]).toMatchObject({ apiName: "seeded", canTrade: true, canFuturesTrade: true });
    expect(res.text).not.toContain(admin.apiSecret);
  });

  it("refuses a wrong signature with -1022", async () => {
    const res = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { email: admin.subAccountEmail },
      { signature: "ab".repeat(32) },
    );

    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: -1022, msg: "Signature for this request is not valid." });
  });

  it("refuses a signature over the unencoded payload (percent-encode before signing) with -1022", async () => {
    const payload = `email=${admin.subAccountEmail}&timestamp=${sim.now()}`;
    const sent = `email=${encodeURIComponent(admin.subAccountEmail)}&timestamp=${payload.split("timestamp=")[1]}`;
    expect(sent).not.toBe(payload);
    const res = await fetch(
      `${sim.url}${KEYS}?${sent}&signature=${referenceSignature(master.secret, payload)}`,
      {
        headers: { "X-MBX-APIKEY": master.apiKey },
      },
    );

    expect(((await res.json()) as { code: number }).code).toBe(-1022);
  });

  it("refuses a timestamp older than recvWindow, or more than 1 s ahead, with -1021", async () => {
    const stale = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { email: admin.subAccountEmail },
      { nowMs: sim.now() - 6_000 },
    );
    const ahead = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { email: admin.subAccountEmail },
      { nowMs: sim.now() + 2_000 },
    );
    const wide = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { email: admin.subAccountEmail },
      { nowMs: sim.now() - 6_000, recvWindow: 10_000 },
    );

    expect([stale.body.code, ahead.body.code]).toEqual([-1021, -1021]);
    expect(wide.status).toBe(200);
  });

  it("refuses a missing key header (-2014) and an unknown key (-2015), both HTTP 401", async () => {
    const missing = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { email: admin.subAccountEmail },
      { omitKeyHeader: true },
    );
    const unknown = await rawCall(sim, { apiKey: "A".repeat(64), secret: "x" }, "GET", "/api/v3/account");

    expect([missing.status, missing.body.code]).toEqual([401, -2014]);
    expect([unknown.status, unknown.body]).toEqual([
      401,
      { code: -2015, msg: "Invalid API-key, IP, or permissions for action." },
    ]);
  });

  it("judges a key's trusted IPs by the caller's address: -2015 off the list, 200 on it", async () => {
    const key = sim.seedKey("acct-a", {
      label: "bound",
      flags: TRADING_FLAGS,
      ips: [EGRESS_IP, CONSUMER_HOST_IP],
    });
    const credential = { apiKey: key.keyId, secret: key.secret };

    const outside = await rawCall(sim, credential, "GET", "/api/v3/account");
    const egress = await rawCall(
      sim,
      credential,
      "GET",
      "/api/v3/account",
      {},
      { fetchImpl: fetchFrom(EGRESS_IP) },
    );
    const host = await rawCall(
      sim,
      credential,
      "GET",
      "/api/v3/account",
      {},
      { fetchImpl: fetchFrom(CONSUMER_HOST_IP) },
    );

    expect([outside.status, outside.body.code]).toEqual([401, -2015]);
    expect([egress.status, host.status]).toEqual([200, 200]);
    expect(egress.body.accountType).toBe("SPOT");
  });

  it("an IP-bound master key manages keys only from its trusted IPs", async () => {
    const bound = sim.addMasterKey("acct-a", { ips: [EGRESS_IP] });
    const credential = { apiKey: bound.apiKey, secret: bound.apiSecret };
    const params = { email: admin.subAccountEmail };

    const outside = await rawCall(sim, credential, "GET", KEYS, params);
    const egress = await rawCall(sim, credential, "GET", KEYS, params, { fetchImpl: fetchFrom(EGRESS_IP) });

    expect(outside.body.code).toBe(-2015);
    expect(egress.status).toBe(200);
  });

  it("creating needs the master's Spot & Margin Trading; a sub-account key cannot manage keys", async () => {
    const readOnly = sim.addMasterKey("acct-a", { canTrade: false });
    const sub = sim.seedKey("acct-a", { label: "sub", flags: {} });
    const create = { email: admin.subAccountEmail, apiName: "x", status: "1" };

    const byReadOnly = await rawCall(
      sim,
      { apiKey: readOnly.apiKey, secret: readOnly.apiSecret },
      "POST",
      KEYS,
      create,
    );
    const bySub = await rawCall(sim, { apiKey: sub.keyId, secret: sub.secret }, "GET", KEYS, {
      email: admin.subAccountEmail,
    });

    expect([byReadOnly.body.code, bySub.body.code]).toEqual([-2015, -2015]);
  });

  it("refuses another master's sub-account, status 2 without ipAddress, and a key it does not hold", async () => {
    const other = sim.createAccount("acct-b");
    const foreign = await rawCall(sim, master, "GET", KEYS, { email: other.subAccountEmail });
    const noIps = await rawCall(sim, master, "POST", KEYS, {
      email: admin.subAccountEmail,
      apiName: "x",
      status: "2",
    });
    const unknown = await rawCall(sim, master, "DELETE", KEYS, {
      email: admin.subAccountEmail,
      subAccountApiKey: "B".repeat(64),
    });

    expect(foreign.body.code).toBe(-1130);
    expect(noIps.body.code).toBe(-1102);
    expect(unknown.body.code).toBe(-1130);
  });

  it("creates with the asked flags and IP restriction, returns the secret once, and deletes with {}", async () => {
    const created = await rawCall(sim, master, "POST", KEYS, {
      email: admin.subAccountEmail,
      apiName: "made",
      status: "2",
      ipAddress: "10.0.0.1,10.0.0.2",
      canTrade: "true",
    });
    expect(created.body).toMatchObject({
      apiName: "made",
      canTrade: true,
      canFuturesTrade: false,
      status: 2,
    });
    expect(created.body.ipList).toEqual(["10.0.0.1", "10.0.0.2"]);
    const restriction = await rawCall(sim, master, "GET", `${KEYS}/ipRestriction`, {
      email: admin.subAccountEmail,
      subAccountApiKey: created.body.apiKey,
    });
    expect(restriction.body).toMatchObject({ ipRestrict: "true", ipList: ["10.0.0.1", "10.0.0.2"] });

    const deleted = await rawCall(sim, master, "DELETE", KEYS, {
      email: admin.subAccountEmail,
      subAccountApiKey: created.body.apiKey,
    });
    expect([deleted.status, deleted.body]).toEqual([200, {}]);
    const after = await rawCall(
      sim,
      { apiKey: created.body.apiKey, secret: created.body.secretKey },
      "GET",
      "/api/v3/account",
    );
    expect(after.body.code).toBe(-2015);
  });

  it("injects Binance-shaped faults: 429 with Retry-After and -1003, a WAF 403 page", async () => {
    sim.setFault("account", { failNext: 1, kind: "429" });
    const limited = await rawCall(sim, master, "GET", "/api/v3/account");
    sim.setFault("account", { failNext: 1, kind: "4xx" });
    const waf = await rawCall(sim, master, "GET", "/api/v3/account");
    sim.clearFaults();

    expect([limited.status, limited.body.code]).toEqual([429, -1003]);
    expect(waf.status).toBe(403);
    expect(waf.text).toContain("WAF");
  });
});
