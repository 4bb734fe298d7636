import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EGRESS_IP, fetchFrom, OUTSIDE_IP } from "../../harness/local/exchange/caller-address";
import {
  type OkxAccountCredential,
  type OkxSimulator,
  startOkxSimulator,
  tradingCall,
} from "../../harness/local/exchange/okx";
import { rawCall } from "./okx-helpers";

const KEYS = "/api/v5/users/subaccount/apikey";
const CREATE = { label: "ks_new", passphrase: "Aa1!aaaaaaaa", perm: "trade" };

describe("OKX simulator: refuses what OKX refuses", () => {
  let sim: OkxSimulator;
  let admin: OkxAccountCredential;
  let master: { apiKey: string; secretKey: string; passphrase: string };

  beforeAll(async () => {
    sim = await startOkxSimulator({ seed: 3, maxKeys: 3 });
    admin = sim.createAccount("acct-sim");
    master = admin;
  });
  afterAll(() => sim.close());

  it("answers a correctly signed master listing with the envelope", async () => {
    const { status, body } = await rawCall(sim, master, "GET", KEYS, { subAcct: admin.subAcct });
    expect(status).toBe(200);
    expect(body.code).toBe("0");
    expect(body.data).toEqual([]);
  });

  it("refuses a bad signature (50113)", async () => {
    const { status, body } = await rawCall(sim, { ...master, secretKey: "0".repeat(32) }, "GET", KEYS, {
      subAcct: admin.subAcct,
    });
    expect([status, body.code]).toEqual([401, "50113"]);
  });

  it("refuses a signature over another query (the query is part of the signed path)", async () => {
    const { body } = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { subAcct: admin.subAcct },
      {
        tamper: (h) => {
          h["OK-ACCESS-SIGN"] = `${h["OK-ACCESS-SIGN"]?.slice(0, -4)}AAA=`;
        },
      },
    );
    expect(body.code).toBe("50113");
  });

  it("refuses a wrong passphrase (50105) and a missing one (50104)", async () => {
    const wrong = await rawCall(sim, { ...master, passphrase: "Wrong-pass1" }, "GET", KEYS, {
      subAcct: admin.subAcct,
    });
    expect([wrong.status, wrong.body.code]).toEqual([401, "50105"]);
    const none = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { subAcct: admin.subAcct },
      {
        tamper: (h) => {
          delete h["OK-ACCESS-PASSPHRASE"];
        },
      },
    );
    expect(none.body.code).toBe("50104");
  });

  it("refuses a stale timestamp (50102) and one that is not millisecond ISO (50112)", async () => {
    const stale = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { subAcct: admin.subAcct },
      { nowMs: sim.now() - 31_000 },
    );
    expect(stale.body.code).toBe("50102");
    const recent = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { subAcct: admin.subAcct },
      { nowMs: sim.now() - 20_000 },
    );
    expect(recent.body.code).toBe("0");
    const unix = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { subAcct: admin.subAcct },
      {
        tamper: (h) => {
          h["OK-ACCESS-TIMESTAMP"] = String(sim.now());
        },
      },
    );
    expect(unix.body.code).toBe("50112");
  });

  it("refuses a demo header on a live simulator (50101)", async () => {
    const { body } = await rawCall(
      sim,
      master,
      "GET",
      KEYS,
      { subAcct: admin.subAcct },
      {
        tamper: (h) => {
          h["x-simulated-trading"] = "1";
        },
      },
    );
    expect(body.code).toBe("50101");
  });

  it("judges a key's IP whitelist by the caller's address (50110), for master and trading keys alike", async () => {
    const bound = sim.addMasterKey("acct-sim", { ips: [EGRESS_IP] });
    const outside = await rawCall(
      sim,
      bound,
      "GET",
      KEYS,
      { subAcct: admin.subAcct },
      { fetchImpl: fetchFrom(OUTSIDE_IP) },
    );
    expect([outside.status, outside.body.code]).toEqual([401, "50110"]);
    const egress = await rawCall(
      sim,
      bound,
      "GET",
      KEYS,
      { subAcct: admin.subAcct },
      { fetchImpl: fetchFrom(EGRESS_IP) },
    );
    expect(egress.body.code).toBe("0");

    const trading = sim.seedKey("acct-sim", {
      label: "trading",
      perm: ["read_only", "trade"],
      ips: ["127.0.0.0/31"],
    });
    expect((await tradingCall(sim.url, trading, { fetchImpl: fetchFrom(OUTSIDE_IP) })).ok).toBe(true);
    const refused = await tradingCall(sim.url, trading, { fetchImpl: fetchFrom(EGRESS_IP) });
    expect([refused.ok, refused.code]).toEqual([false, "50110"]);
  });

  it("refuses key management by a master key that is not IP-bound (50035), but lets it list", async () => {
    const unbound = sim.addMasterKey("acct-sim", { ips: [] });
    const create = await rawCall(sim, unbound, "POST", KEYS, { subAcct: admin.subAcct, ...CREATE });
    expect(create.body.code).toBe("50035");
    const list = await rawCall(sim, unbound, "GET", KEYS, { subAcct: admin.subAcct });
    expect(list.body.code).toBe("0");
  });

  it("refuses sub-account key management by a sub-account's key (59500)", async () => {
    const sub = sim.seedKey("acct-sim", {
      label: "sub-self",
      perm: ["read_only", "trade"],
      ips: ["127.0.0.1"],
    });
    const asKey = { apiKey: sub.keyId, secretKey: sub.secret, passphrase: sub.passphrase };
    const { body } = await rawCall(sim, asKey, "POST", KEYS, { subAcct: admin.subAcct, ...CREATE });
    expect(body.code).toBe("59500");
  });

  it("answers another master's sub-account as unknown (59510)", async () => {
    const other = sim.createAccount("acct-other");
    const { body } = await rawCall(sim, other, "GET", KEYS, { subAcct: admin.subAcct });
    expect(body.code).toBe("59510");
  });

  it("refuses withdraw (59504), a weak passphrase (59505), 21 IPs (59503), a repeated label (59502)", async () => {
    const other = sim.createAccount("acct-rules");
    const call = (params: Record<string, string>) =>
      rawCall(sim, other, "POST", KEYS, { subAcct: other.subAcct, ...CREATE, ...params });
    expect((await call({ perm: "read_only,withdraw" })).body.code).toBe("59504");
    expect((await call({ passphrase: "alllowercase" })).body.code).toBe("59505");
    const ips = Array.from({ length: 21 }, (_, i) => `10.0.0.${i + 1}`).join(",");
    expect((await call({ ip: ips })).body.code).toBe("59503");
    const first = await call({ label: "dup" });
    expect(first.body.code).toBe("0");
    expect(first.body.data?.[0]).toMatchObject({ label: "dup", perm: "read_only,trade", ip: "" });
    expect((await call({ label: "dup" })).body.code).toBe("59502");
  });

  it("refuses a key beyond the sub-account's limit (59501) and a deletion of an unknown key (59506)", async () => {
    const full = sim.createAccount("acct-full", { maxKeys: 1 });
    const call = (label: string) =>
      rawCall(sim, full, "POST", KEYS, { subAcct: full.subAcct, ...CREATE, label });
    expect((await call("one")).body.code).toBe("0");
    expect((await call("two")).body.code).toBe("59501");
    const gone = await rawCall(sim, full, "POST", "/api/v5/users/subaccount/delete-apikey", {
      subAcct: full.subAcct,
      apiKey: "00000000-0000-4000-8000-000000000000",
    });
    expect(gone.body.code).toBe("59506");
  });

  it("refuses a removed key (50111) and logs that the call used it", async () => {
    const key = sim.seedKey("acct-sim", { label: "to-remove", perm: ["read_only"], ips: ["127.0.0.1"] });
    const del = await rawCall(sim, master, "POST", "/api/v5/users/subaccount/delete-apikey", {
      subAcct: admin.subAcct,
      apiKey: key.keyId,
    });
    expect(del.body).toMatchObject({ code: "0", data: [{ subAcct: admin.subAcct }] });
    const after = await tradingCall(sim.url, key);
    expect([after.ok, after.code]).toEqual([false, "50111"]);
    expect(sim.requestLog().at(-1)).toMatchObject({ keyId: key.keyId, keyState: "removed", status: 401 });
  });
});

describe("OKX simulator in demo mode", () => {
  it("accepts only requests with x-simulated-trading: 1", async () => {
    const sim = await startOkxSimulator({ demo: true });
    try {
      const admin = sim.createAccount("acct-demo");
      const live = await rawCall(sim, admin, "GET", KEYS, { subAcct: admin.subAcct });
      expect(live.body.code).toBe("50101");
      const demo = await rawCall(
        sim,
        admin,
        "GET",
        KEYS,
        { subAcct: admin.subAcct },
        {
          tamper: (h) => {
            h["x-simulated-trading"] = "1";
          },
        },
      );
      expect(demo.body.code).toBe("0");
    } finally {
      await sim.close();
    }
  });
});
