import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSUMER_HOST_IP, EGRESS_IP, fetchFrom } from "../../harness/local/exchange/caller-address";
import {
  type GateAccountCredential,
  type GateSimulator,
  startGateSimulator,
  tradingCall,
} from "../../harness/local/exchange/gate";
import {
  ExchangeIpRefusedError,
  ExchangeKeyLimitError,
  ExchangePermanentError,
  ExchangeRetryableError,
} from "../../src/core/errors";
import { adapterFor, adminConfig, failure, signByHand, TRADING_PERMS, TRADING_SCOPE } from "./gate-helpers";

const ACCOUNT = "acct-adapter";

interface Seen {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** A fetch that records each request (headers as sent) before passing it on, or answers it itself. */
function recording(answer?: (seen: Seen) => Response | undefined): { fetchImpl: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const request: Seen = {
      url: new URL(String(input)),
      method: init?.method ?? "GET",
      headers: { ...((init?.headers ?? {}) as Record<string, string>) },
      body: typeof init?.body === "string" ? init.body : "",
    };
    seen.push(request);
    return answer?.(request) ?? fetch(input, init);
  }) as typeof fetch;
  return { fetchImpl, seen };
}

describe("Gate adapter against the simulator", () => {
  let sim: GateSimulator;
  let admin: GateAccountCredential;
  let clock = Date.parse("2026-06-01T08:00:00Z");
  const now = () => clock;

  beforeAll(async () => {
    sim = await startGateSimulator({ seed: 5, maxKeys: 4, now });
    admin = sim.createAccount(ACCOUNT);
  });
  afterAll(() => sim.close());

  it("creates with name, perms and ip_whitelist as documented, signed as Gate's SDK signs", async () => {
    const { fetchImpl, seen } = recording();
    const adapter = adapterFor(adminConfig(sim, admin), { fetchImpl, now });
    const created = await adapter.createKey(ACCOUNT, {
      label: "ks_0123456789ab",
      permissions: TRADING_SCOPE,
      ipAllowlist: ["127.0.0.1", "203.0.113.7"],
    });
    const post = seen.find((r) => r.method === "POST");
    expect(post?.url.pathname).toBe(`/api/v4/sub_accounts/${admin.userId}/keys`);
    expect(JSON.parse(post?.body ?? "{}")).toEqual({
      name: "ks_0123456789ab",
      perms: [
        { name: "futures", read_only: false },
        { name: "spot", read_only: false },
      ],
      ip_whitelist: ["127.0.0.1", "203.0.113.7"],
    });
    const timestamp = String(Math.floor(clock / 1000));
    expect(post?.headers.timestamp).toBe(timestamp);
    expect(post?.headers.key).toBe(admin.apiKey);
    expect(post?.headers.sign).toBe(
      signByHand(admin.apiSecret, "POST", post?.url.pathname ?? "", "", post?.body ?? "", timestamp),
    );
    expect(created).toMatchObject({
      label: "ks_0123456789ab",
      permissions: TRADING_SCOPE,
      ipAllowlist: ["127.0.0.1", "203.0.113.7"],
      status: "active",
    });
    expect(created.lastUsedAt).toBeUndefined();
    await adapter.verifyKey(ACCOUNT, { keyId: created.keyId, secret: created.secret });
    expect(await adapter.removeKey(ACCOUNT, created.keyId)).toBe("removed");
  });

  it("listKeys reports lastUsedAt from last_access, advancing when the key trades from a consumer host", async () => {
    const adapter = adapterFor(adminConfig(sim, admin), { now });
    const key = sim.seedKey(ACCOUNT, {
      label: "trading_main",
      perms: TRADING_PERMS,
      ips: [CONSUMER_HOST_IP],
    });
    const lastUsed = async () =>
      (await adapter.listKeys(ACCOUNT)).keys.find((k) => k.keyId === key.keyId)?.lastUsedAt;
    expect(await lastUsed()).toBeUndefined();
    clock += 60_000;
    const first = await tradingCall(sim.url, key, { now, fetchImpl: fetchFrom(CONSUMER_HOST_IP) });
    expect(first.ok).toBe(true);
    expect(await lastUsed()).toBe(new Date(clock).toISOString());
    const before = clock;
    clock += 3 * 3_600_000;
    const order = { currency_pair: "BTC_USDT", side: "buy" as const, amount: "0.001", price: "1" };
    expect((await tradingCall(sim.url, key, { now, order, fetchImpl: fetchFrom(CONSUMER_HOST_IP) })).ok).toBe(
      true,
    );
    const after = await lastUsed();
    expect(after).toBe(new Date(clock).toISOString());
    expect(Date.parse(after ?? "")).toBeGreaterThan(before);
    await adapter.removeKey(ACCOUNT, key.keyId);
  });

  it("verifyKey refuses a key that authenticates as another user (the main account's own key)", async () => {
    const adapter = adapterFor(adminConfig(sim, admin), { now });
    const main = sim.addMainKey(ACCOUNT, {});
    const err = await failure(adapter.verifyKey(ACCOUNT, { keyId: main.apiKey, secret: main.apiSecret }));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toMatch(/not sub-account/);
    expect(err.message).not.toContain(main.apiSecret);
  });

  it("verifyKey from outside the key's binding is the IP refusal; a wrong secret is permanent and not echoed", async () => {
    const adapter = adapterFor(adminConfig(sim, admin), { now, fetchImpl: fetchFrom(EGRESS_IP) });
    const key = sim.seedKey(ACCOUNT, { label: "bound", perms: TRADING_PERMS, ips: [CONSUMER_HOST_IP] });
    expect(await failure(adapter.verifyKey(ACCOUNT, key))).toBeInstanceOf(ExchangeIpRefusedError);
    const wrong = `${key.secret.slice(0, -4)}ffff`;
    const err = await failure(
      adapterFor(adminConfig(sim, admin), { now }).verifyKey(ACCOUNT, { ...key, secret: wrong }),
    );
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.exchangeCode).toBe("INVALID_SIGNATURE");
    expect(err.message).not.toContain(wrong);
    await adapterFor(adminConfig(sim, admin), { now }).removeKey(ACCOUNT, key.keyId);
  });

  it("refuses what Gate cannot express before anything is created", async () => {
    const { fetchImpl, seen } = recording();
    const adapter = adapterFor(adminConfig(sim, admin), { fetchImpl, now });
    for (const permissions of [["withdraw:write"], ["spot:admin"], [], ["spot:read", "spot:write"]]) {
      const err = await failure(adapter.createKey(ACCOUNT, { label: "ks_x", permissions }));
      expect(err).toBeInstanceOf(ExchangePermanentError);
      expect(err.message).toMatch(/nothing was created/);
    }
    expect(seen).toEqual([]);
  });

  it("a grant broader than asked is refused, naming the extra and the orphan's label", async () => {
    const { fetchImpl } = recording((req) =>
      req.method === "POST"
        ? new Response(
            JSON.stringify({
              key: "a".repeat(32),
              secret: "b".repeat(64),
              name: "ks_broad",
              perms: [...TRADING_PERMS, { name: "wallet", read_only: false }],
              ip_whitelist: [],
              state: 1,
              created_at: 1,
            }),
            { status: 200 },
          )
        : undefined,
    );
    const err = await failure(
      adapterFor(adminConfig(sim, admin), { fetchImpl, now }).createKey(ACCOUNT, {
        label: "ks_broad",
        permissions: TRADING_SCOPE,
      }),
    );
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toMatch(/broader than the replaced key: wallet:write/);
    expect(err.message).toMatch(/ks_broad/);
    expect(err.message).not.toContain("b".repeat(64));
  });

  it("a full sub-account is ExchangeKeyLimitError, not a retryable error", async () => {
    const adapter = adapterFor(adminConfig(sim, admin, { maxKeys: 4 }), { now });
    const made: string[] = [];
    while ((await adapter.listKeys(ACCOUNT)).keys.length < 4) {
      made.push(
        (await adapter.createKey(ACCOUNT, { label: `ks_fill${made.length}`, permissions: TRADING_SCOPE }))
          .keyId,
      );
    }
    const err = await failure(adapter.createKey(ACCOUNT, { label: "ks_over", permissions: TRADING_SCOPE }));
    expect(err).toBeInstanceOf(ExchangeKeyLimitError);
    expect(err).not.toBeInstanceOf(ExchangeRetryableError);
    for (const keyId of made) await adapter.removeKey(ACCOUNT, keyId);
  });

  it("removeKey: unknown → not-found without a delete; a removal Gate keeps refusing stays retryable until it goes", async () => {
    const { fetchImpl, seen } = recording();
    const adapter = adapterFor(adminConfig(sim, admin), { fetchImpl, now });
    expect(await adapter.removeKey(ACCOUNT, "0".repeat(32))).toBe("not-found");
    expect(seen.some((r) => r.method === "DELETE")).toBe(false);
    const key = sim.seedKey(ACCOUNT, { label: "stuck", perms: TRADING_PERMS });
    sim.refuseRemoval(key.keyId, 2);
    expect(await failure(adapter.removeKey(ACCOUNT, key.keyId))).toBeInstanceOf(ExchangeRetryableError);
    expect(await failure(adapter.removeKey(ACCOUNT, key.keyId))).toBeInstanceOf(ExchangeRetryableError);
    expect((await tradingCall(sim.url, key, { now })).ok).toBe(true);
    expect(await adapter.removeKey(ACCOUNT, key.keyId)).toBe("removed");
    expect(await adapter.removeKey(ACCOUNT, key.keyId)).toBe("not-found");
    expect((await tradingCall(sim.url, key, { now })).label).toBe("INVALID_KEY");
  });

  it("capabilities: no disable, unbound keys expire", async () => {
    const caps = await adapterFor(adminConfig(sim, admin)).capabilities(ACCOUNT);
    expect(caps).toMatchObject({ exchange: "gate", disable: false });
    expect(caps.unboundKeyExpiry).toMatch(/90 days/);
  });
});
