import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type OkxAccountCredential,
  type OkxSimulator,
  startOkxSimulator,
} from "../../harness/local/exchange/okx";
import { parseOkxAdminSecret } from "../../src/adapters/exchange/okx";
import {
  ExchangeIpRefusedError,
  ExchangeKeyLimitError,
  ExchangePermanentError,
  ExchangeRetryableError,
  RotationStateError,
} from "../../src/core/errors";
import { SecretNeedles } from "../../src/core/secret-shapes";
import { adapterFor, adminConfig, failure, signByHand, TRADING_PERM } from "./okx-helpers";

const ACCOUNT = "acct-adapter";
const FIXED_NOW = Date.parse("2026-03-01T12:34:56.789Z");

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
      headers: Object.fromEntries(Object.entries((init?.headers ?? {}) as Record<string, string>)),
      body: typeof init?.body === "string" ? init.body : "",
    };
    seen.push(request);
    return answer?.(request) ?? fetch(input, init);
  }) as typeof fetch;
  return { fetchImpl, seen };
}

const okx = (code: string, data: unknown[] = [], status = 200, msg = "") =>
  new Response(JSON.stringify({ code, msg, data }), {
    status,
    headers: { "content-type": "application/json" },
  });

describe("OKX adapter against the simulator", () => {
  let sim: OkxSimulator;
  let admin: OkxAccountCredential;

  beforeAll(async () => {
    sim = await startOkxSimulator({ seed: 5, maxKeys: 10 });
    admin = sim.createAccount(ACCOUNT);
  });
  afterAll(() => sim.close());

  it("signs GET (query in the path) and POST (body) as the reference says, checked by separate code", async () => {
    const { fetchImpl, seen } = recording(() => okx("0", []));
    const adapter = adapterFor(adminConfig(sim, admin), { fetchImpl, now: () => FIXED_NOW });
    await adapter.listKeys(ACCOUNT);
    await failure(adapter.createKey(ACCOUNT, { label: "ks_sign", permissions: TRADING_PERM }));
    const [get, post] = seen;
    const timestamp = "2026-03-01T12:34:56.789Z";
    expect(get?.headers["ok-access-timestamp"]).toBe(timestamp);
    expect(get?.headers["ok-access-key"]).toBe(admin.apiKey);
    expect(get?.headers["ok-access-passphrase"]).toBe(admin.passphrase);
    const path = `/api/v5/users/subaccount/apikey?subAcct=${admin.subAcct}`;
    expect(`${get?.url.pathname}${get?.url.search}`).toBe(path);
    expect(get?.headers["ok-access-sign"]).toBe(signByHand(admin.secretKey, timestamp, "GET", path, ""));
    expect(post?.method).toBe("POST");
    expect(post?.headers["ok-access-sign"]).toBe(
      signByHand(admin.secretKey, timestamp, "POST", "/api/v5/users/subaccount/apikey", post?.body ?? ""),
    );
    expect(JSON.parse(post?.body ?? "{}")).toMatchObject({
      subAcct: admin.subAcct,
      label: "ks_sign",
      perm: "trade",
    });
    expect(get?.headers["x-simulated-trading"]).toBeUndefined();
  });

  it("sends x-simulated-trading: 1 when the admin secret says demo", async () => {
    const { fetchImpl, seen } = recording(() => okx("0", []));
    await adapterFor(adminConfig(sim, admin, { demo: true }), { fetchImpl }).listKeys(ACCOUNT);
    expect(seen[0]?.headers["x-simulated-trading"]).toBe("1");
  });

  it("gives each key a fresh passphrase of OKX's form, returns it, and verifies the key with it", async () => {
    const adapter = adapterFor(adminConfig(sim, admin));
    const a = await adapter.createKey(ACCOUNT, {
      label: "ks_pass_a",
      permissions: TRADING_PERM,
      ipAllowlist: ["127.0.0.1"],
    });
    const b = await adapter.createKey(ACCOUNT, { label: "ks_pass_b", permissions: ["read_only"] });
    for (const key of [a, b]) {
      expect(key.passphrase).toMatch(/^[\x21-\x7e]{32}$/);
      expect(key.passphrase).toMatch(/[0-9]/);
      expect(key.passphrase).toMatch(/[A-Z]/);
      expect(key.passphrase).toMatch(/[a-z]/);
      expect(key.passphrase).toMatch(/[^A-Za-z0-9]/);
    }
    expect(a.passphrase).not.toBe(b.passphrase);
    expect(a).toMatchObject({
      permissions: ["read_only", "trade"],
      ipAllowlist: ["127.0.0.1"],
      status: "active",
    });
    expect(b.permissions).toEqual(["read_only"]);
    await adapter.verifyKey(ACCOUNT, {
      keyId: a.keyId,
      secret: a.secret,
      passphrase: a.passphrase as string,
    });

    const wrong = await failure(
      adapter.verifyKey(ACCOUNT, { keyId: a.keyId, secret: a.secret, passphrase: "Wrong-pass1!" }),
    );
    expect(wrong).toBeInstanceOf(ExchangePermanentError);
    expect(wrong.exchangeCode).toBe("50105");
    expect(wrong.message).not.toContain("Wrong-pass1!");
    const none = await failure(adapter.verifyKey(ACCOUNT, { keyId: a.keyId, secret: a.secret }));
    expect(none).toBeInstanceOf(ExchangePermanentError);
    expect(none.message).toContain("no passphrase");
  });

  it("refuses to verify a master key as a sub-account key", async () => {
    const adapter = adapterFor(adminConfig(sim, admin));
    const err = await failure(
      adapter.verifyKey(ACCOUNT, {
        keyId: admin.apiKey,
        secret: admin.secretKey,
        passphrase: admin.passphrase,
      }),
    );
    expect(err.message).toContain("master account's key");
  });

  it("removes with the master key; an unlisted key is not-found without a delete call", async () => {
    const adapter = adapterFor(adminConfig(sim, admin));
    const key = await adapter.createKey(ACCOUNT, { label: "ks_remove", permissions: TRADING_PERM });
    expect(await adapter.removeKey(ACCOUNT, key.keyId)).toBe("removed");
    const { fetchImpl, seen } = recording();
    expect(await adapterFor(adminConfig(sim, admin), { fetchImpl }).removeKey(ACCOUNT, key.keyId)).toBe(
      "not-found",
    );
    expect(seen.map((s) => s.url.pathname)).toEqual(["/api/v5/users/subaccount/apikey"]);
  });
});

describe("OKX adapter: scope checks both ways", () => {
  const config = parseOkxAdminSecret(
    {
      exchange: "okx",
      endpoint: "http://127.0.0.1:9",
      apiKey: "master",
      secretKey: "MASTERSECRETKEY0123456789ABCDEF0",
      passphrase: "Master-pass1",
      subAcct: "subaccount1",
    },
    "test",
  );
  const created = (perm: string) =>
    okx("0", [
      {
        subAcct: "subaccount1",
        label: "ks_x",
        apiKey: "k-1",
        secretKey: "S".repeat(32),
        perm,
        ip: "",
        ts: "1",
      },
    ]);

  it("refuses a key granted more than asked (trade on a read-only ask), leaving it for the abort", async () => {
    const { fetchImpl } = recording(() => created("read_only,trade"));
    const err = await failure(
      adapterFor(config, { fetchImpl }).createKey("a", { label: "ks_x", permissions: ["read_only"] }),
    );
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toContain("broader than the replaced key: trade");
    expect(err.message).not.toContain("S".repeat(16));
  });

  it("refuses a key granted less than asked (read only on a trade ask)", async () => {
    const { fetchImpl } = recording(() => created("read_only"));
    const err = await failure(
      adapterFor(config, { fetchImpl }).createKey("a", { label: "ks_x", permissions: TRADING_PERM }),
    );
    expect(err.message).toContain("granted [read only] instead of [trade]");
  });

  it("accepts the create example's echo: trade asked, read_only,trade granted", async () => {
    const { fetchImpl, seen } = recording((s) =>
      s.method === "POST"
        ? created("read_only,trade")
        : okx("0", [{ label: "ks_x", apiKey: "k-1", perm: "read_only,trade", ip: "", ts: "1700000000000" }]),
    );
    const key = await adapterFor(config, { fetchImpl }).createKey("a", {
      label: "ks_x",
      permissions: TRADING_PERM,
    });
    expect(key).toMatchObject({
      keyId: "k-1",
      permissions: ["read_only", "trade"],
      createdAt: "2023-11-14T22:13:20.000Z",
    });
    expect(seen).toHaveLength(2);
  });

  it("refuses withdraw and more than 20 IPs before calling OKX", async () => {
    const { fetchImpl, seen } = recording(() => okx("0"));
    const adapter = adapterFor(config, { fetchImpl });
    const withdraw = await failure(
      adapter.createKey("a", { label: "ks_x", permissions: ["read_only", "withdraw"] }),
    );
    expect(withdraw.message).toContain("withdraw");
    const ips = Array.from({ length: 21 }, (_, i) => `10.0.0.${i}`);
    const many = await failure(
      adapter.createKey("a", { label: "ks_x", permissions: TRADING_PERM, ipAllowlist: ips }),
    );
    expect(many.message).toContain("at most 20");
    expect(seen).toHaveLength(0);
  });
});

describe("OKX adapter: OKX's codes mapped onto the port's errors", () => {
  const config = parseOkxAdminSecret(
    {
      exchange: "okx",
      endpoint: "http://127.0.0.1:9",
      apiKey: "master",
      secretKey: "MASTERSECRETKEY0123456789ABCDEF0",
      passphrase: "Master-pass1",
      subAcct: "subaccount1",
    },
    "test",
  );
  const list = (answer: Response) =>
    adapterFor(config, { fetchImpl: recording(() => answer).fetchImpl }).listKeys("a");

  it.each([
    ["50011", 429, ExchangeRetryableError],
    ["50001", 503, ExchangeRetryableError],
    ["50013", 200, ExchangeRetryableError],
    ["50113", 401, ExchangePermanentError],
    ["50105", 401, ExchangePermanentError],
    ["50110", 401, ExchangeIpRefusedError],
    ["50035", 200, ExchangePermanentError],
    ["59510", 200, ExchangePermanentError],
  ])("code %s (HTTP %i)", async (code, status, type) => {
    const err = await failure(list(okx(code, [], status, `echo ${config.secretKey}`)));
    expect(err).toBeInstanceOf(type);
    if (type === ExchangePermanentError) expect(err).not.toBeInstanceOf(ExchangeRetryableError);
    expect(err.exchangeCode).toBe(code);
    expect(err.message).not.toContain(config.secretKey);
  });

  it("reads no answer without OKX's envelope as a success: 5xx retryable, a proxy's 404 and a 200 page permanent", async () => {
    const page = (status: number) => new Response("<html>edge</html>", { status });
    expect(await failure(list(page(503)))).toBeInstanceOf(ExchangeRetryableError);
    const notFound = await failure(list(page(404)));
    expect(notFound).toBeInstanceOf(ExchangePermanentError);
    expect(notFound.message).toContain("proxy");
    expect(await failure(list(page(200)))).toBeInstanceOf(ExchangePermanentError);
  });

  it("maps 59501 on create to ExchangeKeyLimitError", async () => {
    const { fetchImpl } = recording(() =>
      okx("59501", [], 200, "Only 50 APIKeys can be created per account"),
    );
    const err = await failure(
      adapterFor(config, { fetchImpl }).createKey("a", { label: "ks_x", permissions: TRADING_PERM }),
    );
    expect(err).toBeInstanceOf(ExchangeKeyLimitError);
  });

  it("answers a delete refused with 59506 by the listing: gone is not-found, still listed is permanent", async () => {
    const listed = [{ label: "ks_x", apiKey: "k-1", perm: "read_only", ip: "", ts: "1" }];
    let lists = 0;
    const { fetchImpl } = recording((s) => {
      if (s.method === "POST") return okx("59506", [], 200, "APIKey does not exist");
      lists += 1;
      return okx("0", lists === 1 ? listed : []);
    });
    expect(await adapterFor(config, { fetchImpl }).removeKey("a", "k-1")).toBe("not-found");
    const stuck = recording((s) => (s.method === "POST" ? okx("59506") : okx("0", listed)));
    const err = await failure(adapterFor(config, { fetchImpl: stuck.fetchImpl }).removeKey("a", "k-1"));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toContain("still listed");
  });
});

describe("OKX admin secret and the leak oracles", () => {
  it("names the bad field, never its value", () => {
    const bad = {
      exchange: "okx",
      apiKey: "k",
      secretKey: "SECRET-VALUE-123",
      passphrase: "p p",
      subAcct: "subaccount1",
    };
    let err: unknown;
    try {
      parseOkxAdminSecret(bad, "keyshift/admin/x");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RotationStateError);
    expect((err as Error).message).toContain('"passphrase"');
    expect((err as Error).message).not.toContain("SECRET-VALUE-123");
    expect(parseOkxAdminSecret({ ...bad, passphrase: "Pass-1word" }, "x")).toMatchObject({
      endpoint: "https://www.okx.com",
      demo: false,
      maxKeys: 50,
    });
  });

  it("finds an OKX admin secret's secret key and passphrase, and a key's passphrase, in leaked text", () => {
    const admin = JSON.stringify({
      exchange: "okx",
      apiKey: "37c541a1-0000-4000-8000-10fe7a038418",
      secretKey: "22582BD0CFF14C41EDBF1AB98506286D",
      passphrase: "Admin-Pass-7x!",
      subAcct: "subaccount1",
    });
    const key = JSON.stringify({
      account: "a",
      keyId: "k",
      secret: "S3CRETKEYVALUEABCDEF0123",
      passphrase: "Key-Pass-9q!x",
    });
    const needles = new SecretNeedles();
    needles.add(admin, 0);
    needles.add(key, 1);
    expect(needles.find("log: sign with 22582BD0CFF14C41EDBF1AB9 ...")).toEqual([0]);
    expect(needles.find("header passphrase Admin-Pass-7x! sent")).toEqual([0]);
    expect(needles.find("verify with Key-Pass-9q!x")).toEqual([1]);
    expect(needles.find("key 37c541a1-0000-4000-8000-10fe7a038418 on subaccount1")).toEqual([]);
  });
});
