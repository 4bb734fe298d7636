import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ExchangeAdminCredential,
  type ExchangeErrorDetail,
  HttpExchange,
  signedFetch,
} from "../../harness/local/exchange/keyshift-sim/adapter";
import {
  type ExchangeSimulator,
  startExchangeSimulator,
} from "../../harness/local/exchange/keyshift-sim/server";
import {
  ExchangeKeyNotFoundError,
  ExchangePermanentError,
  ExchangeRetryableError,
} from "../../src/core/errors";

const ACCOUNT = "acct-adapter";

async function caught(work: Promise<unknown>): Promise<Error & ExchangeErrorDetail> {
  try {
    await work;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`expected an Error, got ${String(err)}`);
  }
  throw new Error("expected the call to fail");
}

describe("HttpExchange against the simulated exchange", () => {
  let sim: ExchangeSimulator;
  let admin: ExchangeAdminCredential;
  let exchange: HttpExchange;
  const thrown: unknown[] = [];

  beforeAll(async () => {
    sim = await startExchangeSimulator({ seed: 5, timeoutMs: 2_000 });
    const created = sim.createAccount(ACCOUNT);
    admin = { endpoint: sim.url, keyId: created.adminKeyId, secret: created.adminSecret };
    exchange = new HttpExchange({
      credentials: async (account) => {
        if (account !== ACCOUNT) throw new Error(`no admin credential for ${account}`);
        return admin;
      },
      timeoutMs: 300,
    });
  });
  afterAll(async () => {
    await sim.close();
  });

  /** Runs a call expected to fail and keeps the error for the no-secret check at the end. */
  async function failure(work: Promise<unknown>) {
    const err = await caught(work);
    thrown.push(err);
    return err;
  }

  it("creates, lists, verifies, disables and removes a key", async () => {
    const created = await exchange.createKey(ACCOUNT, { label: "rot-1", permissions: ["read", "trade"] });
    await exchange.verifyKey(ACCOUNT, created);
    const listed = await exchange.listKeys(ACCOUNT);

    await exchange.disableKey(ACCOUNT, created.keyId);
    const disabledVerify = await failure(exchange.verifyKey(ACCOUNT, created));
    const afterDisable = await exchange.listKeys(ACCOUNT);
    const removed = await exchange.removeKey(ACCOUNT, created.keyId);
    const removedAgain = await exchange.removeKey(ACCOUNT, created.keyId);
    const afterRemove = await exchange.listKeys(ACCOUNT);

    expect(created).toMatchObject({ label: "rot-1", permissions: ["read", "trade"], status: "active" });
    expect(created.secret.length).toBeGreaterThanOrEqual(43);
    expect(listed.maxActiveKeys).toBe(2);
    expect(listed.keys).toEqual([
      {
        keyId: created.keyId,
        label: "rot-1",
        permissions: ["read", "trade"],
        status: "active",
        createdAt: created.createdAt,
        // The verify call above authenticated with the key: the listing says when (as Gate's last_access).
        lastUsedAt: expect.any(String),
      },
    ]);
    const lastUsed = Date.parse(listed.keys[0]?.lastUsedAt ?? "");
    expect(lastUsed).toBeGreaterThanOrEqual(Date.parse(created.createdAt));
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    expect(disabledVerify).toBeInstanceOf(ExchangePermanentError);
    expect((disabledVerify as ExchangePermanentError).status).toBe(401);
    expect(disabledVerify.exchangeCode).toBe("KEY_DISABLED");
    expect(afterDisable.keys.map((k) => k.status)).toEqual(["disabled"]);
    expect([removed, removedAgain]).toEqual(["removed", "not-found"]);
    expect(afterRemove.keys).toEqual([]);
  });

  it("lets a trading key call GET /v1/account through signedFetch", async () => {
    const seeded = sim.seedKey(ACCOUNT, { label: "engine", permissions: ["trade"] });

    const res = await signedFetch({ endpoint: sim.url, ...seeded }, "GET", "/v1/account");

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ account: ACCOUNT, keyId: seeded.keyId, permissions: ["trade"] });
    await exchange.removeKey(ACCOUNT, seeded.keyId);
  });

  it("refuses verification with a wrong secret or a removed key, and logs the removed key's call", async () => {
    const created = await exchange.createKey(ACCOUNT, { label: "wrong", permissions: ["read"] });

    const wrong = await failure(
      exchange.verifyKey(ACCOUNT, { keyId: created.keyId, secret: "x".repeat(43) }),
    );
    await exchange.removeKey(ACCOUNT, created.keyId);
    const removedVerify = await failure(exchange.verifyKey(ACCOUNT, created));

    expect(wrong).toBeInstanceOf(ExchangePermanentError);
    expect(wrong.exchangeCode).toBe("BAD_SIGNATURE");
    expect(removedVerify).toBeInstanceOf(ExchangePermanentError);
    expect(removedVerify.exchangeCode).toBe("KEY_REMOVED");
    const byKey = sim.requestLog().filter((e) => e.keyId === created.keyId);
    expect(byKey.map((e) => e.keyState)).toEqual(["active", "removed"]);
  });

  it("classifies the key limit as permanent, with the exchange's code and the keys it names", async () => {
    const a = await exchange.createKey(ACCOUNT, { label: "a", permissions: ["read"] });
    const b = await exchange.createKey(ACCOUNT, { label: "b", permissions: ["read"] });

    const err = await failure(exchange.createKey(ACCOUNT, { label: "c", permissions: ["read"] }));

    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.name).toBe("ExchangePermanentError");
    expect((err as ExchangePermanentError).status).toBe(409);
    expect(err.exchangeCode).toBe("KEY_LIMIT_EXCEEDED");
    expect(err.message).toContain(a.keyId);
    expect(err.message).toContain(b.keyId);
    await exchange.removeKey(ACCOUNT, a.keyId);
    await exchange.removeKey(ACCOUNT, b.keyId);
  });

  it("classifies 404s: not-found on remove, ExchangeKeyNotFoundError on disable", async () => {
    const removed = await exchange.removeKey(ACCOUNT, "k_0123456789abcdef");
    const disable = await failure(exchange.disableKey(ACCOUNT, "k_0123456789abcdef"));

    expect(removed).toBe("not-found");
    expect(disable).toBeInstanceOf(ExchangeKeyNotFoundError);
    expect(disable.message).toContain("KEY_NOT_FOUND");
  });

  it("classifies a rejected request as permanent", async () => {
    const err = await failure(exchange.createKey(ACCOUNT, { label: "bad", permissions: ["root"] }));

    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect((err as ExchangePermanentError).status).toBe(400);
    expect(err.exchangeCode).toBe("INVALID_PERMISSION");
  });

  it.each([
    ["5xx", ExchangeRetryableError, 503],
    ["429", ExchangeRetryableError, 429],
    ["timeout", ExchangeRetryableError, undefined],
    ["4xx", ExchangePermanentError, 400],
  ] as const)("classifies an injected %s fault", async (kind, errorClass, status) => {
    sim.setFault("listKeys", { failNext: 1, kind });
    try {
      const err = await failure(exchange.listKeys(ACCOUNT));

      expect(err).toBeInstanceOf(errorClass);
      expect((err as ExchangeRetryableError).status).toBe(status);
      if (kind === "429") expect(err.retryAfterSeconds).toBe(1);
      if (kind === "timeout") expect(err.message).toContain("no answer within 300 ms");
      await expect(exchange.listKeys(ACCOUNT)).resolves.toMatchObject({ maxActiveKeys: 2 });
    } finally {
      sim.clearFaults();
    }
  });

  it("classifies a failed removal as retryable, and the retry after a lost answer as not-found", async () => {
    const key = sim.seedKey(ACCOUNT, { label: "revoke-me", permissions: ["read"] });
    sim.setFault("removeKey", { failNext: 1, kind: "5xx-after-effect" });
    try {
      const lost = await failure(exchange.removeKey(ACCOUNT, key.keyId));
      const retried = await exchange.removeKey(ACCOUNT, key.keyId);

      expect(lost).toBeInstanceOf(ExchangeRetryableError);
      expect(retried).toBe("not-found");
    } finally {
      sim.clearFaults();
    }
  });

  it("classifies an unreachable exchange as retryable", async () => {
    const down = await startExchangeSimulator();
    const endpoint = down.url;
    await down.close();
    const offline = new HttpExchange({ credentials: async () => ({ ...admin, endpoint }), timeoutMs: 300 });

    const err = await failure(offline.removeKey(ACCOUNT, "k_0123456789abcdef"));

    expect(err).toBeInstanceOf(ExchangeRetryableError);
    expect(err.message).toContain("network error");
  });

  it("puts no secret in any error it threw", async () => {
    const trading = sim.seedKey(ACCOUNT, { label: "secret-check", permissions: ["read"] });
    sim.setFault("account", { failNext: 1, kind: "5xx" });
    thrown.push(await caught(exchange.verifyKey(ACCOUNT, trading)));
    sim.clearFaults();
    await exchange.disableKey(ACCOUNT, trading.keyId);
    thrown.push(await caught(exchange.verifyKey(ACCOUNT, trading)));

    const secrets = [admin.secret, trading.secret];
    // Every failure of this suite was collected (14 when the whole file runs).
    expect(thrown.length).toBeGreaterThanOrEqual(2);
    for (const err of thrown) {
      const e = err as Error;
      const rendered = [e.message, e.stack ?? "", JSON.stringify(e), String(e.cause ?? "")].join("\n");
      for (const secret of secrets) expect(rendered).not.toContain(secret);
    }
    await exchange.removeKey(ACCOUNT, trading.keyId);
  });
});

describe("break 6: only the exchange's own answers count as removed", () => {
  let proxy: Server;
  let answer: { status: number; type: string; body: string };
  let exchange: HttpExchange;

  beforeAll(async () => {
    // A real HTTP server standing in for what sits between us and the exchange: a gateway, a
    // login page, a wrong base path.
    proxy = createServer((_req, res) => {
      res.writeHead(answer.status, { "content-type": answer.type });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const { port } = proxy.address() as AddressInfo;
    exchange = new HttpExchange({
      credentials: async () => ({
        endpoint: `http://127.0.0.1:${port}`,
        keyId: "admin",
        secret: "s3cr3t-admin",
      }),
    });
  });
  afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

  it.each([
    ["a gateway's HTML 404", 404, "text/html", "<html><body>404 Not Found</body></html>"],
    ["a 404 naming another code", 404, "application/json", '{"error":{"code":"ROUTE_NOT_FOUND"}}'],
    ["a wrong account's 404", 404, "application/json", '{"error":{"code":"ACCOUNT_NOT_FOUND"}}'],
    ["a 2xx with {ok:true}", 200, "application/json", '{"ok":true}'],
    ["a 2xx login page", 200, "text/html", "<html><form>Sign in</form></html>"],
    ["a 2xx for another key", 200, "application/json", '{"keyId":"other","status":"removed"}'],
  ])("%s is an error, never 'removed' or 'not-found'", async (_what, status, type, body) => {
    answer = { status, type, body };

    const err = await caught(exchange.removeKey("acct-x", "key-1"));

    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toMatch(/not counted as removed/);
  });

  it("the exchange's own KEY_NOT_FOUND and removal answer are taken at their word (the core confirms them by listing)", async () => {
    answer = {
      status: 404,
      type: "application/json",
      body: '{"error":{"code":"KEY_NOT_FOUND","message":"no key"}}',
    };
    await expect(exchange.removeKey("acct-x", "key-1")).resolves.toBe("not-found");
    answer = { status: 200, type: "application/json", body: '{"keyId":"key-1","status":"removed"}' };
    await expect(exchange.removeKey("acct-x", "key-1")).resolves.toBe("removed");
  });

  it("a listing of another account is refused, so it can never confirm a removal", async () => {
    answer = {
      status: 200,
      type: "application/json",
      body: '{"account":"acct-other","keys":[],"maxActiveKeys":2}',
    };

    const err = await caught(exchange.listKeys("acct-x"));

    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toMatch(/lists account acct-other/);
  });
});
