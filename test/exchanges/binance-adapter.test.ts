import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BinanceAccountCredential,
  type BinanceSimulator,
  startBinanceSimulator,
} from "../../harness/local/exchange/binance";
import { ExchangeKeyLimitError, ExchangePermanentError, ExchangeRetryableError } from "../../src/core/errors";
import {
  adapterFor,
  adminConfig,
  failure,
  referenceSignature,
  TRADING_FLAGS,
  TRADING_SCOPE,
} from "./binance-helpers";

const ACCOUNT = "acct-adapter";

/** A fetch that records each request and may rewrite the simulator's answer. */
function recording(rewrite?: (method: string, path: string, text: string) => string) {
  const seen: Array<{ method: string; url: URL; headers: Headers; body: string }> = [];
  const impl = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    seen.push({ method, url, headers: new Headers(init?.headers), body: String(init?.body ?? "") });
    const res = await fetch(input, init);
    if (!rewrite) return res;
    const text = rewrite(method, url.pathname, await res.text());
    return new Response(text, { status: res.status, headers: res.headers });
  }) as typeof fetch;
  return { impl, seen };
}

/** A fetch that answers every call with one canned response. */
const answering = (status: number, body: string, headers: Record<string, string> = {}) =>
  (async () => new Response(body, { status, headers })) as unknown as typeof fetch;

describe("Binance adapter", () => {
  let sim: BinanceSimulator;
  let admin: BinanceAccountCredential;

  beforeAll(async () => {
    sim = await startBinanceSimulator({ seed: 5, maxKeys: 6 });
    admin = sim.createAccount(ACCOUNT);
    sim.seedKey(ACCOUNT, { label: "trading-main", flags: TRADING_FLAGS, ips: ["127.0.0.1"] });
  });
  afterAll(() => sim.close());

  const config = (extra: Record<string, unknown> = {}) => adminConfig(sim, admin, extra);

  it("signs the percent-encoded query as Binance's reference does, checked by independent code", async () => {
    const rec = recording();
    await adapterFor(config(), { fetchImpl: rec.impl }).listKeys(ACCOUNT);

    const first = rec.seen[0];
    if (!first) throw new Error("no request recorded");
    const query = first.url.search.slice(1);
    const [payload, signature] = query.split("&signature=");
    expect(first.headers.get("x-mbx-apikey")).toBe(admin.apiKey);
    expect(payload).toContain(`email=${encodeURIComponent(admin.subAccountEmail)}`);
    expect(payload).toMatch(/&recvWindow=5000&timestamp=\d{13}$/);
    expect(signature).toBe(referenceSignature(admin.apiSecret, payload as string));
    expect(rec.seen.map((r) => r.url.toString()).join()).not.toContain(admin.apiSecret);
  });

  it("sends the create as a signed form body with the replaced key's flags and IP restriction", async () => {
    const rec = recording();
    const created = await adapterFor(config(), { fetchImpl: rec.impl }).createKey(ACCOUNT, {
      label: "ks-form",
      permissions: TRADING_SCOPE,
      ipAllowlist: ["127.0.0.1", "10.1.1.1"],
    });

    const post = rec.seen.find((r) => r.method === "POST");
    if (!post) throw new Error("no create recorded");
    const [payload, signature] = post.body.split("&signature=");
    const params = new URLSearchParams(payload);
    expect(post.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    expect(signature).toBe(referenceSignature(admin.apiSecret, payload as string));
    expect(Object.fromEntries(params)).toMatchObject({
      apiName: "ks-form",
      status: "2",
      ipAddress: "10.1.1.1,127.0.0.1",
      canTrade: "true",
      canFuturesTrade: "true",
      canMarginLoanRepay: "false",
      canUniversalTransfer: "false",
      canVanillaOptions: "false",
    });
    expect(created.permissions).toEqual(TRADING_SCOPE);
    expect(created.ipAllowlist).toEqual(["10.1.1.1", "127.0.0.1"]);
    expect(await adapterFor(config()).removeKey(ACCOUNT, created.keyId)).toBe("removed");
  });

  it("refuses a created key broader than asked and leaves it, labelled, for the abort's ledger revocation", async () => {
    const rec = recording((method, path, text) =>
      method === "POST" && path.endsWith("/subAccountApi")
        ? text.replace('"canVanillaOptions":false', '"canVanillaOptions":true')
        : text,
    );
    const before = sim.keys(ACCOUNT).filter((k) => k.status === "active").length;
    const err = await failure(
      adapterFor(config(), { fetchImpl: rec.impl }).createKey(ACCOUNT, {
        label: "ks-broad",
        permissions: TRADING_SCOPE,
      }),
    );

    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toContain("broader than the replaced key: canVanillaOptions");
    expect(err.message).toContain("keyshift's abort revokes it by its label, through the ledger");
    // Not deleted outside the ledger: the labelled key is still there for the abort to find.
    const left = sim.keys(ACCOUNT).filter((k) => k.status === "active");
    expect(left.length).toBe(before + 1);
    expect(left.some((k) => k.label === "ks-broad")).toBe(true);
  });

  it("refuses a created key narrower than asked (the consumers could not use it), and leaves it for the abort", async () => {
    const rec = recording((method, path, text) =>
      method === "POST" && path.endsWith("/subAccountApi")
        ? text.replace('"canTrade":true', '"canTrade":false')
        : text,
    );
    const err = await failure(
      adapterFor(config(), { fetchImpl: rec.impl }).createKey(ACCOUNT, {
        label: "ks-narrow",
        permissions: TRADING_SCOPE,
      }),
    );

    expect(err.message).toContain("missing canTrade");
    expect(sim.keys(ACCOUNT).find((k) => k.label === "ks-narrow")?.status).toBe("active");
  });

  it("accepts a key granted exactly what was asked", async () => {
    const created = await adapterFor(config()).createKey(ACCOUNT, {
      label: "ks-exact",
      permissions: TRADING_SCOPE,
    });
    expect(created.permissions).toEqual(TRADING_SCOPE);
    expect(created.ipAllowlist).toBeUndefined();
    await adapterFor(config()).removeKey(ACCOUNT, created.keyId);
  });

  it("refuses what Binance's key API cannot grant (withdrawals) before creating anything", async () => {
    const before = sim.keys(ACCOUNT).length;
    const err = await failure(
      adapterFor(config()).createKey(ACCOUNT, {
        label: "ks-wd",
        permissions: [...TRADING_SCOPE, "enableWithdrawals"],
      }),
    );

    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toContain("nothing was created");
    expect(sim.keys(ACCOUNT).length).toBe(before);
  });

  it("answers not-found for a key the sub-account does not hold", async () => {
    expect(await adapterFor(config()).removeKey(ACCOUNT, "C".repeat(64))).toBe("not-found");
  });

  it("maps a refused create on a full sub-account to ExchangeKeyLimitError", async () => {
    const small = startBinanceSimulator({ seed: 6, maxKeys: 1 });
    const s = await small;
    try {
      const cred = s.createAccount("full");
      s.seedKey("full", { label: "only", flags: TRADING_FLAGS });
      const err = await failure(
        adapterFor(adminConfig(s, cred, { maxKeys: 1 })).createKey("full", {
          label: "ks-over",
          permissions: TRADING_SCOPE,
        }),
      );
      expect(err).toBeInstanceOf(ExchangeKeyLimitError);
    } finally {
      await s.close();
    }
  });

  it("verifyKey from outside the key's trusted IPs fails permanently, naming the egress", async () => {
    const key = sim.seedKey(ACCOUNT, { label: "elsewhere", flags: TRADING_FLAGS, ips: ["203.0.113.9"] });
    const err = await failure(
      adapterFor(config()).verifyKey(ACCOUNT, { keyId: key.keyId, secret: key.secret }),
    );

    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.exchangeCode).toBe("-2015");
    expect(err.message).toContain("egress");
    expect(err.message).not.toContain(key.secret);
  });

  describe("classifies Binance's answers", () => {
    const cases: Array<[string, number, string, Record<string, string>, unknown]> = [
      [
        "429 with Retry-After",
        429,
        '{"code":-1003,"msg":"Too many requests."}',
        { "retry-after": "7" },
        ExchangeRetryableError,
      ],
      [
        "418 (IP auto-banned)",
        418,
        '{"code":-1003,"msg":"IP banned"}',
        { "retry-after": "120" },
        ExchangeRetryableError,
      ],
      ["503 gateway page", 503, "<html>503</html>", {}, ExchangeRetryableError],
      [
        "-1003 in the body",
        400,
        '{"code":-1003,"msg":"Too much request weight used"}',
        {},
        ExchangeRetryableError,
      ],
      [
        "-1021 clock",
        400,
        '{"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}',
        {},
        ExchangePermanentError,
      ],
      [
        "-1022 signature",
        400,
        '{"code":-1022,"msg":"Signature for this request is not valid."}',
        {},
        ExchangePermanentError,
      ],
      [
        "-2015 key/IP/permissions",
        401,
        '{"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}',
        {},
        ExchangePermanentError,
      ],
      ["a WAF 403 page", 403, "<html>403</html>", {}, ExchangePermanentError],
      ["a proxy's 404 page", 404, "<html>Not Found</html>", {}, ExchangePermanentError],
      ["a login page on a 200", 200, "<html>login</html>", {}, ExchangePermanentError],
    ];
    for (const [name, status, body, headers, kind] of cases) {
      it(name, async () => {
        const err = await failure(
          adapterFor(config(), { fetchImpl: answering(status, body, headers) }).listKeys(ACCOUNT),
        );
        expect(err).toBeInstanceOf(kind as typeof Error);
      });
    }

    it("keeps Retry-After and the code, and never echoes the secret Binance sent back", async () => {
      const echo = `{"code":-1022,"msg":"bad signature for secret ${admin.apiSecret}"}`;
      const limited = await failure(
        adapterFor(config(), {
          fetchImpl: answering(429, '{"code":-1003,"msg":"x"}', { "retry-after": "7" }),
        }).listKeys(ACCOUNT),
      );
      const echoed = await failure(
        adapterFor(config(), { fetchImpl: answering(400, echo) }).listKeys(ACCOUNT),
      );

      expect([limited.retryAfterSeconds, limited.exchangeCode]).toEqual([7, "-1003"]);
      expect(echoed.exchangeCode).toBe("-1022");
      expect(echoed.message).not.toContain(admin.apiSecret);
      expect(echoed.message).not.toContain(admin.apiSecret.slice(10, 30));
    });
  });
});
