import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DeribitSimulator,
  startDeribitSimulator,
  tradingCall,
} from "../../harness/local/exchange/deribit";
import {
  type DeribitAdminConfig,
  DeribitExchange,
  type DeribitExchangeOptions,
} from "../../src/adapters/exchange/deribit";
import {
  ExchangeIpRefusedError,
  ExchangeKeyLimitError,
  ExchangeKeyNotFoundError,
  ExchangePermanentError,
  ExchangeRetryableError,
} from "../../src/core/errors";
import { type CannedAnswer, HTML_404, startDeribitProxy } from "./deribit-proxy";

const SCOPE = ["account:read", "trade:read_write", "wallet:none"];
const SEED = "JBSWY3DPEHPK3PXP";
/** Every secret any test hands out: none may appear in any error message. */
const secrets = new Set<string>([SEED]);

let sim: DeribitSimulator;
let accounts = 0;

beforeAll(async () => {
  sim = await startDeribitSimulator({ timeoutMs: 1_500 });
});
afterAll(async () => {
  await sim.close();
});

/** A fresh account with its admin key, a current trading key, and an adapter on it. */
function account(
  opts: { maxKeys?: number; adminScope?: string[]; totpSeed?: string; adminIpAllowlist?: string[] } = {},
) {
  const name = `deribit-${++accounts}`;
  const admin = sim.createAccount(name, opts);
  const current = sim.seedKey(name, { label: "trading_main", permissions: SCOPE });
  secrets.add(admin.adminSecret).add(current.secret);
  const config: DeribitAdminConfig = {
    endpoint: sim.url,
    clientId: admin.adminKeyId,
    clientSecret: admin.adminSecret,
    accountId: admin.accountId,
  };
  const exchange = (
    overrides: Partial<DeribitAdminConfig> = {},
    options: Partial<DeribitExchangeOptions> = {},
  ) =>
    new DeribitExchange({
      credentials: async () => ({ ...config, ...overrides }),
      verifyBudgetMs: 1_000,
      ...options,
    });
  return { name, admin, current, config, exchange };
}

/** The error a call failed with, checked to carry no secret. */
async function failure(call: Promise<unknown>): Promise<Error> {
  const outcome = await call.then(
    (value) => value,
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  for (const secret of secrets) expect(outcome.message).not.toContain(secret);
  return outcome;
}

const code = (err: Error) => (err as { exchangeCode?: string }).exchangeCode;

describe("Deribit adapter: authentication failures are permanent, in Deribit's own words", () => {
  it("maps a bad signature (wrong client secret) to a permanent 13009 naming what to check", async () => {
    const { exchange } = account();
    const err = await failure(exchange({ clientSecret: "wrong-admin-secret-value" }).listKeys("x"));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err).not.toBeInstanceOf(ExchangeRetryableError);
    expect(code(err)).toBe("13009");
    expect(err.message).toMatch(/invalid signature.*check clientId\/clientSecret/);
    expect(err.message).not.toContain("wrong-admin-secret-value");
  });

  it("maps a stale timestamp (clock 2 minutes slow) to a permanent 13009 that mentions the clock", async () => {
    const { exchange } = account();
    const err = await failure(exchange({}, { now: () => Date.now() - 120_000 }).listKeys("x"));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(code(err)).toBe("13009");
    expect(err.message).toMatch(/timestamp.*clock/);
  });

  it("maps a replayed nonce to a permanent 13009", async () => {
    const { config, exchange } = account();
    const proxy = await startDeribitProxy(sim.url, {
      replay: (method) => method === "private/get_account_summary",
    });
    try {
      const err = await failure(exchange({ endpoint: proxy.url }).listKeys("x"));
      expect(err).toBeInstanceOf(ExchangePermanentError);
      expect(code(err)).toBe("13009");
      expect(err.message).toContain("nonce already used");
      expect(config.endpoint).toBe(sim.url);
    } finally {
      await proxy.close();
    }
  });

  it("refuses verifyKey for a disabled key, and a trading service's calls with it, until it is enabled", async () => {
    const { name, current, exchange } = account();
    const adapter = exchange();
    await adapter.disableKey(name, current.keyId);
    expect((await adapter.listKeys(name)).keys.find((k) => k.keyId === current.keyId)?.status).toBe(
      "disabled",
    );
    expect(await failure(adapter.verifyKey(name, current))).toBeInstanceOf(ExchangePermanentError);
    expect(await tradingCall(sim.url, current)).toMatchObject({ ok: false, errorCode: 13004 });
    await adapter.enableKey(name, current.keyId);
    expect(await tradingCall(sim.url, current)).toMatchObject({ ok: true });
  });
});

describe("Deribit adapter: a caller outside a key's IP whitelist", () => {
  it("says the admin key's whitelist lacks keyshift's egress, not that the credential is wrong", async () => {
    const { exchange } = account({ adminIpAllowlist: ["203.0.113.9"] });
    const err = await failure(exchange().listKeys("x"));
    expect(err).toBeInstanceOf(ExchangeIpRefusedError);
    expect(code(err)).toBe("13009");
    expect(err.message).toMatch(/not on the key's IP whitelist: add keyshift's egress IPs/);
    expect(err.message).not.toMatch(/check clientId/);
  });

  it("says the same when a new key bound elsewhere cannot be verified from here", async () => {
    const { name, exchange } = account();
    const adapter = exchange();
    const created = await adapter.createKey(name, {
      label: "ks_elsewhere",
      permissions: SCOPE,
      ipAllowlist: ["203.0.113.9"],
    });
    secrets.add(created.secret);
    const err = await failure(adapter.verifyKey(name, created));
    expect(err).toBeInstanceOf(ExchangeIpRefusedError);
    expect(err.message).toMatch(/13009.*not on the key's IP whitelist: add keyshift's egress IPs/);
    await adapter.removeKey(name, created.keyId);
  });
});

describe("Deribit adapter: the account is the one the admin secret names", () => {
  it("fails listKeys when the admin key belongs to another account", async () => {
    const { exchange } = account();
    const err = await failure(exchange({ accountId: 999 }).listKeys("x"));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toMatch(/belongs to Deribit account \d+, not 999/);
  });

  it("never answers removeKey not-found on another account, even for a key that is not there", async () => {
    const { exchange } = account();
    const err = await failure(exchange({ accountId: 999 }).removeKey("x", "someKey1"));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err).not.toBeInstanceOf(ExchangeKeyNotFoundError);
  });

  it("refuses verifyKey for a key of another account", async () => {
    const mine = account();
    const theirs = account();
    const err = await failure(mine.exchange().verifyKey(mine.name, theirs.current));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toMatch(/authenticates as Deribit account/);
  });

  it("refuses to act on the admin key itself", async () => {
    const { name, admin, exchange } = account();
    const err = await failure(exchange().removeKey(name, admin.adminKeyId));
    expect(err.message).toContain("admin key itself");
    expect(sim.requestLog().some((r) => r.endpoint === "removeKey" && r.keyId === admin.adminKeyId)).toBe(
      false,
    );
  });
});

describe("Deribit adapter: limits, scope and what it will not create", () => {
  it("maps a full account (disabled keys counting) to ExchangeKeyLimitError, naming the count", async () => {
    const { name, current, exchange } = account();
    const adapter = exchange();
    await adapter.disableKey(name, current.keyId);
    expect((await adapter.listKeys(name)).maxActiveKeys).toBe(7);
    // The admin key and the disabled current key hold 2 of the 8 slots.
    for (let i = 0; i < 6; i++) await adapter.createKey(name, { label: `ks_fill_${i}`, permissions: SCOPE });
    const err = await failure(adapter.createKey(name, { label: "ks_bbbbbbbbbbbb", permissions: SCOPE }));
    expect(err).toBeInstanceOf(ExchangeKeyLimitError);
    expect(err.message).toMatch(/holds 8 of Deribit's 8 API keys/);
    await adapter.removeKey(name, current.keyId);
    await adapter.createKey(name, { label: "ks_bbbbbbbbbbbb", permissions: SCOPE });
  });

  it("maps scope_exceeded (the admin key cannot grant what it lacks) to a permanent 13403 with the fix", async () => {
    const { name, exchange } = account({ adminScope: ["account:read_write", "trade:read"] });
    const err = await failure(exchange().createKey(name, { label: "ks_cccccccccccc", permissions: SCOPE }));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(code(err)).toBe("13403");
    expect(err.message).toContain("widen its max_scope");
    expect(sim.keys(name).filter((k) => k.label === "ks_cccccccccccc")).toEqual([]);
  });

  it.each([
    [["trade:admin"], "label ok"],
    [["trade:read", "trade:read_write"], "label ok"],
    [SCOPE, "label too long for Deribit"],
  ])("refuses %j (%s) before calling Deribit", async (permissions, label) => {
    const { name, exchange } = account();
    const before = sim.requestLog().length;
    const err = await failure(
      exchange().createKey(name, {
        label: label === "label ok" ? "ks_dddddddddddd" : "ks_ddddddddddddd_x",
        permissions,
      }),
    );
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toContain("nothing was created");
    expect(sim.requestLog().length).toBe(before);
  });

  it("binds the IP allow-list with edit_api_key and reports it like the replaced key's", async () => {
    const { name, exchange } = account();
    const created = await exchange().createKey(name, {
      label: "ks_eeeeeeeeeeee",
      permissions: SCOPE,
      ipAllowlist: ["10.9.8.7", "2001:db8::1"],
    });
    expect(created.ipAllowlist).toEqual(["10.9.8.7", "2001:db8::1"]);
    expect(sim.keys(name).find((k) => k.keyId === created.keyId)?.ipAllowlist).toEqual([
      "10.9.8.7",
      "2001:db8::1",
    ]);
  });
});

describe("Deribit adapter: every request carries a JSON-RPC id (Deribit refuses one without)", () => {
  it("sends an id on every call of a create (the simulator refuses a request without one)", async () => {
    const { name, exchange } = account();
    const bodies: string[] = [];
    const fetchImpl: typeof fetch = async (url, init) => {
      bodies.push(String(init?.body ?? ""));
      return fetch(url, init);
    };
    const created = await exchange({}, { fetchImpl }).createKey(name, {
      label: "ks_withid",
      permissions: SCOPE,
      ipAllowlist: ["10.1.2.3"],
    });
    secrets.add(created.secret);
    expect(bodies.length).toBe(2); // create_api_key, then edit_api_key for the IP list
    for (const body of bodies) expect(JSON.parse(body).id).toEqual(expect.any(Number));
  });
});

describe("Deribit adapter: a created key's scope, group by group", () => {
  async function createVia(rewrite: (text: string) => string, permissions = SCOPE) {
    const acct = account();
    const proxy = await startDeribitProxy(sim.url, {
      rewrite: (method, text) => (method === "private/create_api_key" ? rewrite(text) : text),
    });
    try {
      const outcome = await acct
        .exchange({ endpoint: proxy.url })
        .createKey(acct.name, { label: "ks_scopecheck", permissions })
        .then(
          (created) => {
            secrets.add(created.secret);
            return created;
          },
          (err: unknown) => err as Error,
        );
      const left = sim.keys(acct.name).filter((k) => k.label === "ks_scopecheck" && k.status !== "removed");
      return { outcome, left };
    } finally {
      await proxy.close();
    }
  }

  it.each([
    ["drops the asked wallet:none", (t: string) => t.replace(" wallet:none", "")],
    [
      "echoes an unasked block_rfq:none",
      (t: string) => t.replace('"max_scope":"', '"max_scope":"block_rfq:none '),
    ],
  ])("accepts an answer that %s (an absent group is none: same key)", async (_, rewrite) => {
    const { outcome, left } = await createVia(rewrite);
    expect(outcome).not.toBeInstanceOf(Error);
    expect(left).toHaveLength(1);
  });

  it.each([
    [
      "a group raised",
      (t: string) => t.replace("account:read ", "account:read_write "),
      /broader.*account:read_write/,
    ],
    ["a group added", (t: string) => t.replace("wallet:none", "wallet:read"), /broader.*wallet:read/],
    ["a token it cannot read", (t: string) => t.replace("wallet:none", "wallet:all"), /broader.*wallet:all/],
    [
      "a group lowered",
      (t: string) => t.replace("trade:read_write", "trade:read"),
      /narrower.*trade:read_write/,
    ],
  ])("refuses %s and removes the new key again", async (_, rewrite, message) => {
    const { outcome, left } = await createVia(rewrite);
    expect(outcome).toBeInstanceOf(ExchangePermanentError);
    expect((outcome as Error).message).toMatch(message);
    expect((outcome as Error).message).toContain("removed it");
    expect(left).toEqual([]);
  });
});

describe("Deribit adapter: answers that are not Deribit's are failures, never success", () => {
  async function viaProxy(intercept: (method: string) => CannedAnswer | undefined) {
    const acct = account();
    const proxy = await startDeribitProxy(sim.url, { intercept });
    return { ...acct, adapter: acct.exchange({ endpoint: proxy.url }), close: proxy.close };
  }

  it.each<[string, Array<"remove" | "list" | "verify">]>([
    ["private/list_api_keys", ["remove", "list"]],
    ["private/remove_api_key", ["remove"]],
    ["private/get_account_summary", ["remove", "list", "verify"]],
  ])("a proxy's HTML 404 on %s is permanent for %j, never not-found", async (method, calls) => {
    const { name, current, adapter, close } = await viaProxy((m) => (m === method ? HTML_404 : undefined));
    try {
      for (const call of calls) {
        const pending =
          call === "remove"
            ? adapter.removeKey(name, current.keyId)
            : call === "list"
              ? adapter.listKeys(name)
              : adapter.verifyKey(name, current);
        const err = await failure(pending);
        expect(err).toBeInstanceOf(ExchangePermanentError);
        expect(err).not.toBeInstanceOf(ExchangeKeyNotFoundError);
        expect(err.message).toContain("HTTP 404 without Deribit's JSON-RPC envelope");
      }
      expect(sim.keys(name).find((k) => k.keyId === current.keyId)?.status).toBe("active");
    } finally {
      await close();
    }
  });

  it.each<[string, CannedAnswer, string]>([
    [
      "a login page",
      { status: 200, body: "<html>sign in</html>", contentType: "text/html" },
      "without Deribit's JSON-RPC envelope",
    ],
    [
      "an envelope whose list holds no keys",
      { status: 200, body: '{"jsonrpc":"2.0","result":[{"id":"x"}]}' },
      "unexpected answer shape",
    ],
    [
      "another request's answer",
      { status: 200, body: '{"jsonrpc":"2.0","id":-5,"result":[]}' },
      "another request's id",
    ],
  ])("a 2xx with %s from list_api_keys is permanent", async (_case, canned, expected) => {
    const { name, adapter, close } = await viaProxy((m) =>
      m === "private/list_api_keys" ? canned : undefined,
    );
    try {
      const err = await failure(adapter.listKeys(name));
      expect(err).toBeInstanceOf(ExchangePermanentError);
      expect(err.message).toContain(expected);
    } finally {
      await close();
    }
  });

  it('a removal answered without Deribit\'s "ok" is not counted as removed', async () => {
    const { name, current, adapter, close } = await viaProxy((m) =>
      m === "private/remove_api_key" ? { status: 200, body: '{"jsonrpc":"2.0","result":"done"}' } : undefined,
    );
    try {
      const err = await failure(adapter.removeKey(name, current.keyId));
      expect(err.message).toContain('without Deribit\'s "ok"');
    } finally {
      await close();
    }
  });

  it("an oversized answer fails with a bound instead of being read whole", async () => {
    const big = { status: 200, body: Buffer.alloc(3 * 1024 * 1024, 0x20) };
    const { name, adapter, close } = await viaProxy((m) => (m === "private/list_api_keys" ? big : undefined));
    try {
      const err = await failure(adapter.listKeys(name));
      expect(err).toBeInstanceOf(ExchangePermanentError);
      expect(err.message).toMatch(/exceeds the \d+-byte bound/);
    } finally {
      await close();
    }
  });

  it("a 5xx or 429 without the envelope is retryable", async () => {
    for (const status of [502, 429]) {
      const { name, adapter, close } = await viaProxy(() => ({
        status,
        body: "busy",
        contentType: "text/plain",
      }));
      try {
        expect(await failure(adapter.listKeys(name))).toBeInstanceOf(ExchangeRetryableError);
      } finally {
        await close();
      }
    }
  });
});

describe("Deribit adapter: transient failures are retryable", () => {
  it("maps Deribit's too_many_requests (10028) to retryable with its code", async () => {
    const { name, exchange } = account();
    sim.setFault("listKeys", { failNext: 1, kind: "429" });
    const err = await failure(exchange().listKeys(name));
    sim.clearFaults();
    expect(err).toBeInstanceOf(ExchangeRetryableError);
    expect(code(err)).toBe("10028");
  });

  it("maps a timeout to retryable", async () => {
    const { name, exchange } = account();
    sim.setFault("account", { failNext: 1, kind: "timeout" });
    const err = await failure(exchange({}, { timeoutMs: 300 }).listKeys(name));
    sim.clearFaults();
    expect(err).toBeInstanceOf(ExchangeRetryableError);
    expect(err.message).toContain("no answer within 300 ms");
  });

  it("verifyKey retries a failing check within its budget and succeeds", async () => {
    const { name, current, exchange } = account();
    sim.setFault("account", { failNext: 2, kind: "5xx" });
    await exchange({}, { verifyBudgetMs: 5_000, sleep: async () => {} }).verifyKey(name, current);
    sim.clearFaults();
  });
});

describe("Deribit adapter: removal", () => {
  it("answers not-found for a key that never existed and for one already removed, removed once", async () => {
    const { name, current, exchange } = account();
    const adapter = exchange();
    expect(await adapter.removeKey(name, "neverExisted")).toBe("not-found");
    expect(await adapter.removeKey(name, current.keyId)).toBe("removed");
    expect(await adapter.removeKey(name, current.keyId)).toBe("not-found");
    expect(await failure(adapter.disableKey(name, current.keyId))).toBeInstanceOf(ExchangeKeyNotFoundError);
    expect(await tradingCall(sim.url, current)).toMatchObject({ ok: false, errorCode: 13004 });
  });
});
