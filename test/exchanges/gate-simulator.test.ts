import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONSUMER_HOST_IP,
  EGRESS_IP,
  fetchFrom,
  OUTSIDE_IP,
} from "../../harness/local/exchange/caller-address";
import {
  type GateAccountCredential,
  type GateSimulator,
  startGateSimulator,
  tradingCall,
} from "../../harness/local/exchange/gate";
import { rawCall, TRADING_PERMS } from "./gate-helpers";

const ACCOUNT = "acct-sim";

describe("Gate simulator refuses what Gate refuses", () => {
  let sim: GateSimulator;
  let admin: GateAccountCredential;
  let clock = Date.parse("2026-06-01T00:00:00Z");

  beforeAll(async () => {
    sim = await startGateSimulator({ seed: 3, maxKeys: 3, now: () => clock });
    admin = sim.createAccount(ACCOUNT);
  });
  afterAll(() => sim.close());

  const keysPath = () => `/api/v4/sub_accounts/${admin.userId}/keys`;

  it("lists the sub-account's keys for the main key signed by hand", async () => {
    const res = await rawCall(sim, admin, "GET", keysPath());
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body)).toBe(true);
  });

  it("a missing header: MISSING_REQUIRED_HEADER", async () => {
    const res = await rawCall(sim, admin, "GET", keysPath(), undefined, { tamper: (h) => delete h.SIGN });
    expect(res).toMatchObject({ status: 401, body: { label: "MISSING_REQUIRED_HEADER" } });
  });

  it("an unknown key: INVALID_KEY", async () => {
    const res = await rawCall(sim, { apiKey: "0".repeat(32), apiSecret: admin.apiSecret }, "GET", keysPath());
    expect(res).toMatchObject({ status: 401, body: { label: "INVALID_KEY" } });
  });

  it("a bad signature (wrong secret, or a body other than the one signed): INVALID_SIGNATURE", async () => {
    const wrong = await rawCall(sim, { ...admin, apiSecret: "f".repeat(64) }, "GET", keysPath());
    expect(wrong).toMatchObject({ status: 401, body: { label: "INVALID_SIGNATURE" } });
    const swapped = await rawCall(sim, admin, "GET", keysPath(), undefined, {
      tamper: (h) => {
        h.Timestamp = String(Number(h.Timestamp) - 1);
      },
    });
    expect(swapped.body?.label).toBe("INVALID_SIGNATURE");
  });

  it("a timestamp outside the 60 s window, or not in seconds: REQUEST_EXPIRED", async () => {
    const stale = await rawCall(sim, admin, "GET", keysPath(), undefined, { nowMs: clock - 61_000 });
    expect(stale).toMatchObject({ status: 401, body: { label: "REQUEST_EXPIRED" } });
    const inMs = await rawCall(sim, admin, "GET", keysPath(), undefined, {
      tamper: (h) => {
        h.Timestamp = String(clock);
      },
    });
    expect(inMs.body?.label).toBe("REQUEST_EXPIRED");
    const inWindow = await rawCall(sim, admin, "GET", keysPath(), undefined, { nowMs: clock - 59_000 });
    expect(inWindow.status).toBe(200);
  });

  it("a caller outside the key's whitelist: IP_FORBIDDEN; inside (CIDR too): allowed", async () => {
    const bound = sim.addMainKey(ACCOUNT, { ips: [`${EGRESS_IP}/32`] });
    const outside = await rawCall(sim, bound, "GET", keysPath(), undefined, {
      fetchImpl: fetchFrom(OUTSIDE_IP),
    });
    expect(outside).toMatchObject({ status: 401, body: { label: "IP_FORBIDDEN" } });
    const inside = await rawCall(sim, bound, "GET", keysPath(), undefined, {
      fetchImpl: fetchFrom(EGRESS_IP),
    });
    expect(inside.status).toBe(200);
  });

  it("key management by a sub-account key (FORBIDDEN) or a read-only main key (READ_ONLY)", async () => {
    const sub = sim.seedKey(ACCOUNT, { label: "sub", perms: TRADING_PERMS });
    const bySub = await rawCall(sim, { apiKey: sub.keyId, apiSecret: sub.secret }, "GET", keysPath());
    expect(bySub).toMatchObject({ status: 403, body: { label: "FORBIDDEN" } });
    const readOnly = sim.addMainKey(ACCOUNT, { readOnly: true });
    expect((await rawCall(sim, readOnly, "GET", keysPath())).status).toBe(200);
    const create = await rawCall(sim, readOnly, "POST", keysPath(), { name: "x", perms: TRADING_PERMS });
    expect(create).toMatchObject({ status: 403, body: { label: "READ_ONLY" } });
    await rawCall(sim, admin, "DELETE", `${keysPath()}/${sub.keyId}`);
  });

  it("another main account's sub-account: SUB_ACCOUNT_NOT_FOUND", async () => {
    const other = sim.createAccount("acct-other");
    const res = await rawCall(sim, admin, "GET", `/api/v4/sub_accounts/${other.userId}/keys`);
    expect(res).toMatchObject({ status: 404, body: { label: "SUB_ACCOUNT_NOT_FOUND" } });
  });

  it("an unknown function or a malformed whitelist: INVALID_PARAM_VALUE, and nothing is created", async () => {
    const before = sim.keys(ACCOUNT).length;
    const badPerm = await rawCall(sim, admin, "POST", keysPath(), {
      perms: [{ name: "withdraw", read_only: false }],
    });
    expect(badPerm.body?.label).toBe("INVALID_PARAM_VALUE");
    const badIp = await rawCall(sim, admin, "POST", keysPath(), {
      perms: TRADING_PERMS,
      ip_whitelist: ["nope"],
    });
    expect(badIp.body?.label).toBe("INVALID_PARAM_VALUE");
    expect(sim.keys(ACCOUNT).length).toBe(before);
  });

  it("the key limit: a full sub-account refuses another key", async () => {
    const live = () => sim.keys(ACCOUNT).filter((k) => k.status === "active").length;
    while (live() < 3) sim.seedKey(ACCOUNT, { label: `fill${live()}`, perms: TRADING_PERMS });
    const res = await rawCall(sim, admin, "POST", keysPath(), { name: "over", perms: TRADING_PERMS });
    expect(res.status).toBe(400);
    expect(live()).toBe(3);
    for (const key of sim.keys(ACCOUNT).filter((k) => k.status === "active")) {
      await rawCall(sim, admin, "DELETE", `${keysPath()}/${key.keyId}`);
    }
    expect(live()).toBe(0);
  });

  it("creates a key answering its secret once; the listing never shows it", async () => {
    const created = await rawCall(sim, admin, "POST", keysPath(), {
      name: "ks_abc",
      perms: TRADING_PERMS,
      ip_whitelist: [EGRESS_IP],
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      name: "ks_abc",
      state: 1,
      last_access: 0,
      user_id: Number(admin.userId),
    });
    expect(created.body.secret).toMatch(/^[0-9a-f]{64}$/);
    const listing = await rawCall(sim, admin, "GET", keysPath());
    expect(JSON.stringify(listing.body)).not.toContain(created.body.secret);
  });

  it("records last_access when a key authenticates, not when it is refused", async () => {
    const key = sim.seedKey(ACCOUNT, { label: "la", perms: TRADING_PERMS, ips: [CONSUMER_HOST_IP] });
    const lastAccess = async () =>
      (await rawCall(sim, admin, "GET", keysPath())).body.find((k: { key: string }) => k.key === key.keyId)
        ?.last_access;
    expect(await lastAccess()).toBe(0);
    const refused = await tradingCall(sim.url, key, { now: () => clock, fetchImpl: fetchFrom(OUTSIDE_IP) });
    expect(refused).toMatchObject({ ok: false, label: "IP_FORBIDDEN" });
    expect(await lastAccess()).toBe(0);
    clock += 3_600_000;
    expect(
      (await tradingCall(sim.url, key, { now: () => clock, fetchImpl: fetchFrom(CONSUMER_HOST_IP) })).ok,
    ).toBe(true);
    expect(await lastAccess()).toBe(Math.floor(clock / 1000));
  });

  it("spot: a key without spot is FORBIDDEN, a read-only one cannot order (READ_ONLY)", async () => {
    sim.createAccount("acct-spot");
    const futures = sim.seedKey("acct-spot", {
      label: "fut",
      perms: [{ name: "futures", read_only: false }],
    });
    expect(await tradingCall(sim.url, futures, { now: () => clock })).toMatchObject({ label: "FORBIDDEN" });
    const reader = sim.seedKey("acct-spot", { label: "ro", perms: [{ name: "spot", read_only: true }] });
    expect((await tradingCall(sim.url, reader, { now: () => clock })).ok).toBe(true);
    const order = { currency_pair: "BTC_USDT", side: "buy" as const, amount: "0.001", price: "1" };
    expect(await tradingCall(sim.url, reader, { now: () => clock, order })).toMatchObject({
      label: "READ_ONLY",
    });
  });

  it("refuses a key's removal N times when told (control plane), then removes it", async () => {
    const owner = sim.createAccount("acct-stuck");
    const key = sim.seedKey("acct-stuck", { label: "stuck", perms: TRADING_PERMS });
    const res = await fetch(new URL("/_sim/accounts/acct-stuck/refuse-removal", sim.url), {
      method: "POST",
      body: JSON.stringify({ keyId: key.keyId, attempts: 2 }),
    });
    expect(res.status).toBe(204);
    const del = () => rawCall(sim, owner, "DELETE", `/api/v4/sub_accounts/${owner.userId}/keys/${key.keyId}`);
    expect(await del()).toMatchObject({ status: 500, body: { label: "SERVER_ERROR" } });
    expect(await del()).toMatchObject({ status: 500, body: { label: "SERVER_ERROR" } });
    expect((await del()).status).toBe(204);
    expect((await tradingCall(sim.url, key, { now: () => clock })).label).toBe("INVALID_KEY");
    expect(await del()).toMatchObject({ status: 404, body: { label: "NOT_FOUND" } });
  });

  it("logs each call with its key id, never a secret", async () => {
    const log = sim.requestLog();
    expect(log.some((e) => e.keyId === admin.apiKey && e.keyState === "admin")).toBe(true);
    expect(JSON.stringify(log)).not.toContain(admin.apiSecret);
  });
});
