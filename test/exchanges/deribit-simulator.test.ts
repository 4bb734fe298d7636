import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONSUMER_HOST_IP,
  EGRESS_IP,
  fetchFrom,
  OUTSIDE_IP,
} from "../../harness/local/exchange/caller-address";
import {
  type DeribitSimulator,
  startDeribitSimulator,
  tradingCall,
} from "../../harness/local/exchange/deribit";
import { deribitAuthorizationHeader } from "../../src/adapters/exchange/deribit/signing";
import { base32Decode, totp } from "../../src/adapters/exchange/deribit/totp";

const SEED = "JBSWY3DPEHPK3PXP";
let clock = Date.UTC(2026, 0, 1, 0, 0, 1);
let sim: DeribitSimulator;
let accounts = 0;

beforeAll(async () => {
  sim = await startDeribitSimulator({ now: () => clock });
});
afterAll(async () => {
  await sim.close();
});

interface Key {
  keyId: string;
  secret: string;
}
interface Answer {
  status: number;
  json: {
    jsonrpc?: string;
    id?: unknown;
    result?: unknown;
    error?: { code: number; message: string; data?: { reason?: string } };
    usIn?: number;
    usOut?: number;
    usDiff?: number;
    testnet?: boolean;
  };
}

/** One signed JSON-RPC call as a client would make it; `tamper` bends one part of it. */
async function call(
  key: Key,
  method: string,
  params: Record<string, unknown> = {},
  tamper: {
    ts?: number;
    nonce?: string;
    secret?: string;
    get?: boolean;
    bodyMethod?: string;
    id?: number | null | "omit";
    /** The loopback address the call leaves from (default: the test's own, 127.0.0.1). */
    from?: string;
  } = {},
): Promise<Answer> {
  const query = tamper.get ? `?${new URLSearchParams(params as Record<string, string>)}` : "";
  const uri = `/api/v2/${method}${query}`;
  const body = tamper.get
    ? ""
    : JSON.stringify({
        jsonrpc: "2.0",
        ...(tamper.id === "omit" ? {} : { id: tamper.id === undefined ? 42 : tamper.id }),
        method: tamper.bodyMethod ?? method,
        params,
      });
  const authorization = deribitAuthorizationHeader(
    { clientId: key.keyId, clientSecret: tamper.secret ?? key.secret },
    {
      method: tamper.get ? "GET" : "POST",
      uri,
      body,
      nowMs: tamper.ts ?? clock,
      ...(tamper.nonce ? { nonce: tamper.nonce } : {}),
    },
  );
  const res = await (tamper.from ? fetchFrom(tamper.from) : fetch)(`${sim.url}${uri}`, {
    method: tamper.get ? "GET" : "POST",
    headers: { authorization, "content-type": "application/json" },
    ...(tamper.get ? {} : { body }),
  });
  return { status: res.status, json: (await res.json()) as Answer["json"] };
}

function account(opts: { totpSeed?: string; adminScope?: string[]; adminIpAllowlist?: string[] } = {}) {
  const name = `sim-${++accounts}`;
  const admin = sim.createAccount(name, opts);
  return { name, admin: { keyId: admin.adminKeyId, secret: admin.adminSecret }, accountId: admin.accountId };
}

const SCOPE = "account:read trade:read_write";

describe("Deribit simulator: the JSON-RPC envelope", () => {
  it("answers with jsonrpc, the request's id, the result and usIn/usOut/usDiff/testnet", async () => {
    const { admin, accountId } = account();
    const { status, json } = await call(admin, "private/get_account_summary", {
      currency: "BTC",
      extended: true,
    });
    expect(status).toBe(200);
    expect(json).toMatchObject({
      jsonrpc: "2.0",
      id: 42,
      testnet: true,
      result: { id: accountId, currency: "BTC" },
    });
    expect(json.usOut).toBeGreaterThanOrEqual(json.usIn ?? Number.POSITIVE_INFINITY);
    expect(json.usDiff).toBe((json.usOut ?? 0) - (json.usIn ?? 0));
  });

  it("also serves a signed GET with its params in the query string (as ccxt calls it)", async () => {
    const { admin, accountId } = account();
    const { json } = await call(
      admin,
      "private/get_account_summary",
      { currency: "BTC", extended: "true" },
      { get: true },
    );
    expect(json.result).toMatchObject({ id: accountId });
  });

  it("refuses unknown methods (-32601) and a body whose method is not the path's (-32600)", async () => {
    const { admin } = account();
    expect((await call(admin, "private/no_such_method")).json.error?.code).toBe(-32601);
    const mismatch = await call(
      admin,
      "private/get_account_summary",
      { currency: "BTC" },
      { bodyMethod: "private/remove_api_key" },
    );
    expect(mismatch.json.error?.code).toBe(-32600);
  });

  it("refuses a JSON-RPC request without an id, as Deribit refuses notification-style requests (-32600, id null)", async () => {
    const { admin } = account();
    for (const id of ["omit", null] as const) {
      const { status, json } = await call(admin, "private/get_account_summary", { currency: "BTC" }, { id });
      expect(status).toBe(400);
      expect(json.error?.code).toBe(-32600);
      expect(json.error?.data?.reason).toMatch(/without id/);
      expect(json.id).toBeNull();
      expect(json.result).toBeUndefined();
    }
  });
});

describe("Deribit simulator: the signature check", () => {
  it("refuses a bad signature, a stale or future timestamp and a reused nonce with 13009; an unknown id with 13004", async () => {
    const { admin } = account();
    const summary = { currency: "BTC" };
    const bad = await call(admin, "private/get_account_summary", summary, { secret: "not-the-secret" });
    expect(bad).toMatchObject({
      status: 401,
      json: { error: { code: 13009, data: { reason: "invalid signature" } } },
    });
    for (const ts of [clock - 61_000, clock + 61_000]) {
      const stale = await call(admin, "private/get_account_summary", summary, { ts });
      expect(stale.json.error).toMatchObject({
        code: 13009,
        data: { reason: expect.stringContaining("60 s") },
      });
    }
    expect((await call(admin, "private/get_account_summary", summary, { ts: clock - 59_000 })).status).toBe(
      200,
    );
    expect((await call(admin, "private/get_account_summary", summary, { nonce: "same-nonce" })).status).toBe(
      200,
    );
    const replay = await call(admin, "private/get_account_summary", summary, { nonce: "same-nonce" });
    expect(replay.json.error).toMatchObject({ code: 13009, data: { reason: "nonce already used" } });
    const unknown = await call({ keyId: "nobody12", secret: "x" }, "private/get_account_summary", summary);
    expect(unknown.json.error?.code).toBe(13004);
  });

  it("refuses a call without the deri-hmac-sha256 header (10000)", async () => {
    const res = await fetch(`${sim.url}/api/v2/private/list_api_keys`, {
      method: "POST",
      body: '{"jsonrpc":"2.0","id":1}',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as Answer["json"]).error?.code).toBe(10000);
  });
});

describe("Deribit simulator: keys and their rules", () => {
  it("holds 8 keys per account, the admin key and disabled keys counted; removal frees a slot", async () => {
    const { name, admin } = account();
    const ids: number[] = [];
    for (let i = 0; i < 7; i++) {
      const { json } = await call(admin, "private/create_api_key", { max_scope: SCOPE, name: `k${i}` });
      ids.push((json.result as { id: number }).id);
    }
    await call(admin, "private/disable_api_key", { id: ids[0] });
    const full = await call(admin, "private/create_api_key", { max_scope: SCOPE, name: "k8" });
    expect(full.json.error?.code).toBe(10001);
    expect((await call(admin, "private/remove_api_key", { id: ids[0] })).json.result).toBe("ok");
    expect((await call(admin, "private/create_api_key", { max_scope: SCOPE, name: "k8" })).status).toBe(200);
    expect(sim.keys(name).filter((k) => k.status !== "removed")).toHaveLength(7);
  });

  it("refuses to grant more than the admin key's own scope (13403 scope_exceeded)", async () => {
    const { admin } = account({ adminScope: ["account:read_write", "trade:read"] });
    const { json } = await call(admin, "private/create_api_key", {
      max_scope: "trade:read_write",
      name: "x",
    });
    expect(json.error).toMatchObject({ code: 13403, message: "scope_exceeded" });
  });

  it("refuses key management to a key without account:read_write (13021) and bad params (-32602)", async () => {
    const { name, admin } = account();
    const reader = sim.seedKey(name, { label: "reader", permissions: ["account:read"] });
    expect(
      (await call(reader, "private/create_api_key", { max_scope: "account:read" })).json.error?.code,
    ).toBe(13021);
    expect(
      (await call(admin, "private/create_api_key", { max_scope: "account:root" })).json.error?.code,
    ).toBe(-32602);
    const longName = await call(admin, "private/create_api_key", {
      max_scope: "account:read",
      name: "seventeen_chars_x",
    });
    expect(longName.json.error).toMatchObject({ code: -32602, data: { param: "name" } });
  });

  it("refuses a disabled key's calls, serves it again once enabled, refuses it for good once removed", async () => {
    const { name, admin } = account();
    const trader = sim.seedKey(name, { label: "trader", permissions: ["trade:read_write"] });
    const id = sim.keys(name)[0]?.id;
    const options = { now: () => clock };
    expect(await tradingCall(sim.url, trader, options)).toMatchObject({ ok: true });
    await call(admin, "private/disable_api_key", { id });
    expect(await tradingCall(sim.url, trader, options)).toMatchObject({
      ok: false,
      status: 401,
      errorCode: 13004,
    });
    await call(admin, "private/enable_api_key", { id });
    expect(await tradingCall(sim.url, trader, options)).toMatchObject({ ok: true });
    await call(admin, "private/remove_api_key", { id });
    expect(await tradingCall(sim.url, trader, options)).toMatchObject({ ok: false, errorCode: 13004 });
    expect((await call(admin, "private/remove_api_key", { id })).json.error?.code).toBe(13020);
    const log = sim.requestLog().filter((r) => r.keyId === trader.keyId);
    expect(log.map((r) => r.keyState)).toEqual(["active", "disabled", "active", "removed"]);
  });

  it("keeps an IP allow-list set with edit_api_key, and enforces it from then on", async () => {
    const { admin } = account();
    const created = (await call(admin, "private/create_api_key", { max_scope: SCOPE, name: "ip" })).json
      .result as { id: number; client_id: string; client_secret: string };
    const key = { keyId: created.client_id, secret: created.client_secret };
    expect((await call(key, "private/get_open_orders_by_currency", { currency: "BTC" })).status).toBe(200);
    const edited = await call(admin, "private/edit_api_key", {
      id: created.id,
      max_scope: SCOPE,
      ip_whitelist: ["10.0.0.1"],
    });
    expect(edited.json.result).toMatchObject({ id: created.id, ip_whitelist: ["10.0.0.1"] });
    const refused = await call(key, "private/get_open_orders_by_currency", { currency: "BTC" });
    expect(refused.json.error?.code).toBe(13009);
  });
});

describe("Deribit simulator: the key's IP whitelist, judged by the caller's address", () => {
  const openOrders = (key: Key, from?: string) =>
    call(key, "private/get_open_orders_by_currency", { currency: "BTC" }, from ? { from } : {});

  it("serves a caller on the trading key's list and refuses one outside it (13009, HTTP 401, reason naming the IP)", async () => {
    const { name } = account();
    const key = sim.seedKey(name, {
      label: "bound",
      permissions: ["trade:read"],
      ipAllowlist: [EGRESS_IP, CONSUMER_HOST_IP],
    });

    expect((await openOrders(key, EGRESS_IP)).json.result).toEqual([]);
    expect((await openOrders(key, CONSUMER_HOST_IP)).json.result).toEqual([]);
    const refused = await openOrders(key, OUTSIDE_IP);
    expect(refused.status).toBe(401);
    expect(refused.json.error).toMatchObject({
      code: 13009,
      message: "unauthorized",
      data: { reason: expect.stringMatching(/ip address not whitelisted/) },
    });
    // The trading client a consumer runs sees the same refusal.
    expect(await tradingCall(sim.url, key, { now: () => clock })).toMatchObject({
      ok: false,
      errorCode: 13009,
    });
    expect(
      await tradingCall(sim.url, key, { now: () => clock, fetchImpl: fetchFrom(CONSUMER_HOST_IP) }),
    ).toMatchObject({ ok: true });
  });

  it("matches CIDR entries: 127.0.0.2/31 admits .2 and .3, not .1", async () => {
    const { name } = account();
    const key = sim.seedKey(name, {
      label: "cidr",
      permissions: ["trade:read"],
      ipAllowlist: ["127.0.0.2/31"],
    });

    expect((await openOrders(key, EGRESS_IP)).status).toBe(200);
    expect((await openOrders(key, CONSUMER_HOST_IP)).status).toBe(200);
    expect((await openOrders(key, OUTSIDE_IP)).json.error?.code).toBe(13009);
  });

  it("holds the admin key to its own list: a bound admin called from elsewhere manages nothing", async () => {
    const { name, admin } = account({ adminIpAllowlist: [EGRESS_IP] });

    expect((await call(admin, "private/list_api_keys", {}, { from: EGRESS_IP })).status).toBe(200);
    const refused = await call(admin, "private/create_api_key", { max_scope: SCOPE, name: "nope" });
    expect(refused.json.error?.code).toBe(13009);
    expect(sim.keys(name)).toEqual([]);
  });

  it("judges the signature first: a forged call from outside learns nothing about the binding", async () => {
    const { name } = account();
    const key = sim.seedKey(name, { label: "sig", permissions: ["trade:read"], ipAllowlist: [EGRESS_IP] });

    const forged = await call(
      key,
      "private/get_open_orders_by_currency",
      { currency: "BTC" },
      { secret: "x" },
    );
    expect(forged.json.error).toMatchObject({ code: 13009, data: { reason: "invalid signature" } });
  });

  it("lets anyone in when the list is empty (an unbound key)", async () => {
    const { name } = account();
    const key = sim.seedKey(name, { label: "open", permissions: ["trade:read"] });
    expect((await openOrders(key, OUTSIDE_IP)).status).toBe(200);
  });
});

describe("Deribit simulator: the security-key challenge", () => {
  const code = (at: number) => totp(base32Decode(SEED), at);

  it("answers a challenge instead of acting, then acts on the right code within the minute", async () => {
    const { name, admin } = account({ totpSeed: SEED });
    const params = { max_scope: SCOPE, name: "tfa" };
    const first = await call(admin, "private/create_api_key", params);
    expect(first.json.result).toMatchObject({
      security_key_authorization_required: true,
      security_keys: [{ type: "tfa" }],
    });
    expect(sim.keys(name)).toEqual([]);
    const challenge = (first.json.result as { challenge: string }).challenge;
    const second = await call(admin, "private/create_api_key", {
      ...params,
      authorization_data: code(clock),
      challenge,
    });
    expect(second.json.result).toMatchObject({ name: "tfa", max_scope: SCOPE });
    expect(sim.keys(name)).toHaveLength(1);
  });

  it.each<[string, (challenge: string) => Record<string, unknown>, string]>([
    ["a wrong code", (challenge) => ({ authorization_data: "000000", challenge }), "tfa_code_not_matched"],
    ["an empty code", (challenge) => ({ authorization_data: "", challenge }), "tfa_code_is_required"],
    [
      "an unknown challenge",
      () => ({ authorization_data: code(clock), challenge: "forged" }),
      "challenge_timeout",
    ],
  ])("refuses %s with 13668 and Deribit's reason", async (_case, answer, reason) => {
    const { admin } = account({ totpSeed: SEED });
    const first = await call(admin, "private/list_api_keys");
    const { challenge } = first.json.result as { challenge: string };
    const second = await call(admin, "private/list_api_keys", answer(challenge));
    expect(second.json.error).toMatchObject({
      code: 13668,
      message: "security_key_authorization_error",
      data: { reason },
    });
  });

  it("refuses a challenge older than a minute, and a code already used", async () => {
    const { admin } = account({ totpSeed: SEED });
    const challengeOf = async () =>
      ((await call(admin, "private/list_api_keys")).json.result as { challenge: string }).challenge;
    const old = await challengeOf();
    clock += 61_000;
    const late = await call(admin, "private/list_api_keys", {
      authorization_data: code(clock),
      challenge: old,
    });
    expect(late.json.error?.data?.reason).toBe("challenge_timeout");
    expect(
      (
        await call(admin, "private/list_api_keys", {
          authorization_data: code(clock),
          challenge: await challengeOf(),
        })
      ).status,
    ).toBe(200);
    const again = await call(admin, "private/list_api_keys", {
      authorization_data: code(clock),
      challenge: await challengeOf(),
    });
    expect(again.json.error?.data?.reason).toBe("used_tfa_code");
  });
});

describe("Deribit simulator control plane (/_sim, unsigned)", () => {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };

  it("creates an account, seeds a key, turns the security key on, lists keys; refuses bad input and unknown routes", async () => {
    const created = await call("POST", "/_sim/accounts", { account: "cp-deribit" });
    const seeded = await call("POST", "/_sim/accounts/cp-deribit/keys", {
      label: "trading_main",
      permissions: ["account:read", "trade:read_write"],
    });
    const securityKey = await call("POST", "/_sim/accounts/cp-deribit/security-key", { totpSeed: SEED });
    const listed = await call("GET", "/_sim/accounts/cp-deribit/keys");
    const badSeed = await call("POST", "/_sim/accounts/cp-deribit/keys", { label: 1, permissions: "x" });
    const badTotp = await call("POST", "/_sim/accounts/cp-deribit/security-key", { totpSeed: 7 });
    const unknownAccount = await call("POST", "/_sim/accounts/nobody/keys", { label: "a", permissions: [] });
    const unknownRoute = await call("POST", "/_sim/accounts/cp-deribit/passwords", {});

    expect(created).toMatchObject({ status: 201, json: { account: "cp-deribit" } });
    expect(seeded.status).toBe(201);
    expect(securityKey.status).toBe(204);
    const keys = (listed.json?.keys ?? []) as { keyId: string }[];
    expect(keys.map((k) => k.keyId)).toEqual([seeded.json?.keyId]);
    expect(badSeed).toMatchObject({ status: 400, json: { error: { code: "INVALID_REQUEST" } } });
    expect(badTotp).toMatchObject({
      status: 400,
      json: { error: { message: "totpSeed must be a string or null" } },
    });
    expect(unknownAccount).toMatchObject({ status: 400, json: { error: { code: "INVALID_REQUEST" } } });
    expect(unknownRoute).toMatchObject({ status: 404, json: { error: { code: "ROUTE_NOT_FOUND" } } });
  });
});
