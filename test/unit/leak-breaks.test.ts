import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BybitSimulator, startBybitSimulator } from "../../harness/local/exchange/bybit";
import { type DeribitSimulator, startDeribitSimulator } from "../../harness/local/exchange/deribit";
import { HttpExchange } from "../../harness/local/exchange/keyshift-sim/adapter";
import {
  judgeOldKey,
  mainJobVerdict,
  type OldKeyFacts,
  type VerdictInput,
} from "../../harness/local/main-job-verdict";
import { scanForSecrets } from "../../harness/local/secret-scan";
import { SecretScanner } from "../../harness/sim/invariants";
import {
  type DeribitAdminConfig,
  DeribitExchange,
  parseDeribitAdminSecret,
} from "../../src/adapters/exchange/deribit";
import { sanitizeErrorMessage } from "../../src/core/errors";
import { adapterFor, adminConfig, startProxy } from "../exchanges/bybit-helpers";
import { startDeribitProxy } from "../exchanges/deribit-proxy";

const PIECE = 16;

/** The secret, its 16-character pieces (or the whole of a shorter one): what must never be shown. */
function needles(secret: string): string[] {
  if (secret.length <= PIECE) return [secret];
  const out: string[] = [];
  for (let i = 0; i + PIECE <= secret.length; i++) out.push(secret.slice(i, i + PIECE));
  return out;
}

/** Every text an error carries to a log, a ledger or an execution history: name, message, own fields, causes. */
function textsOf(err: unknown, depth = 0): string[] {
  if (!(err instanceof Error) || depth > 5) return err === undefined ? [] : [String(err)];
  const own = Object.fromEntries(Object.entries(err));
  return [
    err.name,
    err.message,
    JSON.stringify(own),
    sanitizeErrorMessage(err),
    sanitizeErrorMessage(err, 4096),
    ...textsOf(err.cause, depth + 1),
  ];
}

function expectNoSecret(err: unknown, secrets: readonly string[]): void {
  expect(err).toBeInstanceOf(Error);
  const texts = textsOf(err);
  for (const secret of secrets)
    for (const needle of needles(secret))
      for (const text of texts)
        expect(text.includes(needle), `a piece of a secret in: ${text.slice(0, 120)}…`).toBe(false);
}

async function failureOf(work: Promise<unknown>): Promise<Error> {
  const outcome = await work.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error("expected the call to fail with an Error");
  return outcome;
}

const json = (body: unknown) => ({
  status: 200,
  body: JSON.stringify(body),
  contentType: "application/json",
});

describe("break 14: a secret echoed in an exchange's error code, data or text never reaches an error or the ledger", () => {
  describe("Deribit (JSON-RPC error code/message/data)", () => {
    let sim: DeribitSimulator;
    beforeAll(async () => {
      sim = await startDeribitSimulator({ timeoutMs: 1_500 });
    });
    afterAll(async () => {
      await sim.close();
    });

    const SEED = "JBSWY3DPEHPK3PXP";
    let n = 0;
    async function viaProxy(answer: (config: DeribitAdminConfig) => unknown) {
      const name = `leak-${++n}`;
      const admin = sim.createAccount(name, { totpSeed: SEED });
      const config: DeribitAdminConfig = {
        endpoint: sim.url,
        clientId: admin.adminKeyId,
        clientSecret: admin.adminSecret,
        accountId: admin.accountId,
        totpSeed: SEED,
      };
      const proxy = await startDeribitProxy(sim.url, {
        intercept: (method) => (method === "private/get_account_summary" ? json(answer(config)) : undefined),
      });
      const exchange = new DeribitExchange({
        credentials: async () => ({ ...config, endpoint: proxy.url }),
        verifyBudgetMs: 200,
      });
      return { name, config, exchange, close: proxy.close };
    }

    const error = (error: unknown) => ({ jsonrpc: "2.0", error });
    it.each<[string, (c: DeribitAdminConfig) => unknown]>([
      [
        "a piece of the admin secret in data.reason",
        (c) =>
          error({ code: 13009, message: "invalid_signature", data: { reason: c.clientSecret.slice(3, 30) } }),
      ],
      [
        "the admin secret past data.reason's 80-character cut",
        (c) =>
          error({
            code: 13009,
            message: "invalid_signature",
            data: { reason: `signature computed over the key whose secret is ${c.clientSecret}` },
          }),
      ],
      [
        "the 2FA seed in data.reason",
        (c) =>
          error({ code: 13668, message: "security_key_authorization_error", data: { reason: c.totpSeed } }),
      ],
      [
        "a piece of the admin secret in the message",
        (c) => error({ code: 10001, message: `bad key ${c.clientSecret.slice(0, 20)}` }),
      ],
      ["the admin secret as the code", (c) => error({ code: c.clientSecret, message: "error" })],
      ["the 2FA seed as the code", (c) => error({ code: c.totpSeed, message: "error" })],
      [
        "the admin secret under another data field",
        (c) =>
          error({ code: -32602, message: "Invalid params", data: { param: c.clientSecret, reason: "x" } }),
      ],
    ])("%s", async (_case, answer) => {
      const { name, config, exchange, close } = await viaProxy(answer);
      try {
        const err = await failureOf(exchange.listKeys(name));
        expectNoSecret(err, [config.clientSecret, SEED]);
      } finally {
        await close();
      }
    });

    it("a result whose field names carry the secret is refused naming no value", async () => {
      const { name, config, exchange, close } = await viaProxy((c) => ({
        jsonrpc: "2.0",
        result: { id: "not-a-number", [c.clientSecret]: 1 },
      }));
      try {
        expectNoSecret(await failureOf(exchange.listKeys(name)), [config.clientSecret]);
      } finally {
        await close();
      }
    });
  });

  describe("Bybit (retCode/retMsg)", () => {
    let sim: BybitSimulator;
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    beforeAll(async () => {
      sim = await startBybitSimulator({ seed: 14, timeoutMs: 1_000 });
      proxy = await startProxy(sim.url);
    });
    afterAll(async () => {
      await proxy.close();
      await sim.close();
    });

    let n = 0;
    function account() {
      const name = `leak-${++n}`;
      const cred = sim.createAccount(name);
      const master = sim.addMasterKey(name, { ips: ["127.0.0.1"] });
      const config = { ...adminConfig(sim, { ...cred, ...master }), endpoint: proxy.url };
      return { name, config, secrets: [cred.apiSecret, master.apiSecret] };
    }

    it.each<[string, (secret: string) => unknown]>([
      [
        "a piece of the master secret in retMsg (auth code)",
        (s) => ({ retCode: 10004, retMsg: `sign ${s.slice(2, 24)}` }),
      ],
      [
        "a piece of the master secret in retMsg (refusal)",
        (s) => ({ retCode: 170001, retMsg: `${s.slice(5)} bad` }),
      ],
      [
        "the master secret in retMsg after 200 characters",
        (s) => ({ retCode: 170001, retMsg: `${"x ".repeat(110)}${s}` }),
      ],
      ["the master secret as retCode", (s) => ({ retCode: s, retMsg: "error" })],
      ["a fractional retCode", () => ({ retCode: 1.5e21, retMsg: "error" })],
      [
        "the master secret in retExtInfo",
        (s) => ({ retCode: 10001, retMsg: "params error", retExtInfo: { s } }),
      ],
      [
        "a record key carrying the secret",
        (s) => ({ retCode: 0, retMsg: "OK", result: { subMembers: { [s]: 1 } } }),
      ],
    ])("%s", async (_case, body) => {
      const { name, config, secrets } = account();
      proxy.set(() => ({
        status: 200,
        body: JSON.stringify(body(config.apiSecret)),
        contentType: "application/json",
      }));
      try {
        const err = await failureOf(adapterFor(config).listKeys(name));
        expectNoSecret(err, secrets);
      } finally {
        proxy.set(() => undefined);
      }
    });
  });

  describe("keyshift's own protocol (error.code is a string)", () => {
    const SECRET = "Zk3mQ9vX2pL7rT5wY8nB4cH6jD1fG0sA";
    const exchange = (status: number, body: unknown) =>
      new HttpExchange({
        credentials: async () => ({ endpoint: "http://127.0.0.1:9", keyId: "k_admin", secret: SECRET }),
        fetchImpl: async () =>
          new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } }),
      });

    it.each<[string, number, unknown]>([
      ["the admin secret as a 400's code", 400, { error: { code: SECRET, message: "bad" } }],
      ["the admin secret as a 404's code", 404, { error: { code: SECRET } }],
      ["a piece of the admin secret as a 503's code", 503, { error: { code: `E_${SECRET.slice(0, 20)}` } }],
      [
        "a piece of the admin secret in the message",
        400,
        { error: { code: "BAD", message: SECRET.slice(4) } },
      ],
    ])("%s", async (_case, status, body) => {
      for (const work of [
        exchange(status, body).listKeys("acct"),
        exchange(status, body).removeKey("acct", "k_1"),
        exchange(status, body).disableKey("acct", "k_1"),
      ]) {
        expectNoSecret(await failureOf(work), [SECRET]);
      }
    });

    it("a known code is kept: the caller still acts on it", async () => {
      const err = await failureOf(exchange(400, { error: { code: "KEY_LIMIT_EXCEEDED" } }).listKeys("acct"));
      expect((err as { exchangeCode?: string }).exchangeCode).toBe("KEY_LIMIT_EXCEEDED");
      expect(err.message).toContain("KEY_LIMIT_EXCEEDED");
      expect(await exchange(404, { error: { code: "KEY_NOT_FOUND" } }).removeKey("acct", "k_1")).toBe(
        "not-found",
      );
    });

    it("a listing naming a secret as its account is refused naming no value", async () => {
      const err = await failureOf(
        exchange(200, { account: SECRET, keys: [], maxActiveKeys: 2 }).listKeys("acct"),
      );
      expectNoSecret(err, [SECRET]);
    });
  });
});

/** The secrets a world or a stack holds, as Secrets Manager stores them. */
const CLIENT_SECRET = "Ut_HrDFAYkmaj1Mz5ZMRaTQDMg9ap-B3-fqs3eUAV5k";
const SHORT_CLIENT_SECRET = "q7W_e9Rt-2Yu";
const TOTP_SEED = "jbsw y3dp ehpk 3pxp 7kqa";
const BYBIT_SECRET = "L4Ok5uE4vTq8X2mR9sBzN7cW1aY6dF3gH0jK";
const SIM_ADMIN_SECRET = 'adm"in\\secret-7f3a9c2e1b4d6085';
const KEY_SECRET = "kT9mW2xQ7vR4pL8nZ3cY6bH1jF5gD0sA-eU_iO";
const STORED = [
  JSON.stringify({
    exchange: "deribit",
    endpoint: "https://test.deribit.com",
    clientId: "AbCd1234",
    clientSecret: CLIENT_SECRET,
    accountId: 123456,
    totpSeed: TOTP_SEED,
  }),
  JSON.stringify({
    exchange: "deribit",
    endpoint: "https://www.deribit.com",
    clientId: "EfGh5678",
    clientSecret: SHORT_CLIENT_SECRET,
    accountId: 654321,
  }),
  JSON.stringify({
    exchange: "bybit",
    endpoint: "https://api-testnet.bybit.com",
    apiKey: "8Ya0Ekh8LcO8K9CCMH",
    apiSecret: BYBIT_SECRET,
    subuid: "100200300",
  }),
  JSON.stringify({
    exchange: "keyshift-sim",
    endpoint: "http://127.0.0.1:4010",
    keyId: "k_admin",
    secret: SIM_ADMIN_SECRET,
  }),
  JSON.stringify({
    account: "acme-main",
    keyId: "k_0011223344556677",
    secret: KEY_SECRET,
    permissions: ["trade"],
  }),
];
const SEED_NORMALIZED = TOTP_SEED.replace(/\s/g, "").toUpperCase();

const LEAKS: Array<[string, string]> = [
  ["a Deribit clientSecret", CLIENT_SECRET],
  ["a 16-character piece of a Deribit clientSecret", CLIENT_SECRET.slice(11, 27)],
  ["a short Deribit clientSecret", SHORT_CLIENT_SECRET],
  ["a Deribit totpSeed as stored", TOTP_SEED],
  ["a Deribit totpSeed as an authenticator shows it", SEED_NORMALIZED],
  ["a Bybit apiSecret", BYBIT_SECRET],
  ["a 16-character piece of a Bybit apiSecret", BYBIT_SECRET.slice(7, 23)],
  ["a keyshift-sim admin secret, JSON-escaped", JSON.stringify(SIM_ADMIN_SECRET).slice(1, -1)],
  ["an exchange key's secret", KEY_SECRET],
  ["a piece of an exchange key's secret", KEY_SECRET.slice(20)],
  ["a whole stored admin secret", STORED[0] as string],
];
/** Everything about those secrets that is not secret: ids, endpoints, accounts, fingerprints. */
const CLEAN = [
  'deribit listKeys on account acme-main: client AbCd1234 at https://test.deribit.com (accountId 123456) refused: "invalid_signature"',
  "bybit removeKey 8Ya0Ekh8LcO8K9CCMH on account acme-main (sub-account 100200300): retCode 10004",
  'exchange keyshift-sim http://127.0.0.1:4010 key k_admin; key k_0011223344556677 fp1_3b3d53dc274faf39 {"permissions":["trade"]}',
];

describe("break 19: the leak scanner knows every secret shape the product handles, admin secrets included", () => {
  it.each(LEAKS)("the local stack's secret scan finds %s leaked on its own", (_case, leaked) => {
    const hits = scanForSecrets(
      [{ where: "log line 1", text: `{"level":"ERROR","message":"boom ${leaked} end"}` }],
      STORED,
    );
    expect(hits.map((h) => h.where)).toEqual(["log line 1"]);
  });

  it.each(LEAKS)("the simulation's I7 scanner finds %s leaked on its own", (_case, leaked) => {
    const scanner = new SecretScanner();
    for (const s of STORED) scanner.add(s);
    expect(scanner.scan("ledger e-1", `lastError: boom ${leaked} end`)).toHaveLength(1);
  });

  it("a clean text is clean for both", () => {
    const scanner = new SecretScanner();
    for (const s of STORED) scanner.add(s);
    const haystacks = CLEAN.map((text, i) => ({ where: `log line ${i + 1}`, text }));
    expect(scanForSecrets(haystacks, STORED)).toEqual([]);
    for (const { where, text } of haystacks) expect(scanner.scan(where, text)).toEqual([]);
  });
});

describe("other leak paths: an admin secret's parse error echoes no value", () => {
  const valid = {
    exchange: "deribit",
    endpoint: "https://test.deribit.com",
    clientId: "AbCd1234",
    clientSecret: CLIENT_SECRET,
    accountId: 123456,
  };

  it.each<[string, Record<string, unknown>]>([
    ["a secret pasted as a field name", { ...valid, [CLIENT_SECRET]: "" }],
    ["a seed pasted as a field name", { ...valid, [SEED_NORMALIZED]: true }],
    ["a short secret pasted as a field name", { ...valid, [SHORT_CLIENT_SECRET]: 1 }],
  ])("Deribit: %s", (_case, value) => {
    const err = (() => {
      try {
        parseDeribitAdminSecret(value, "keyshift/admin/acme");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expectNoSecret(err, [CLIENT_SECRET, SEED_NORMALIZED, SHORT_CLIENT_SECRET]);
    expect((err as Error).message).toContain("unknown field(s) (a name not shown)");
  });

  it("Deribit: a misspelt field is still named", () => {
    expect(() => parseDeribitAdminSecret({ ...valid, totp_seed: "JBSWY3DPEHPK3PXP" }, "a")).toThrow(
      'unknown field(s) "totp_seed"',
    );
  });
});

describe("break 18: npm start's verdict never reads as success while the old key lives", () => {
  const facts = (over: Partial<OldKeyFacts> = {}): OldKeyFacts => ({
    keyId: "S1nK2bK5",
    state: "removed",
    entryId: "acme-main#S1nK2bK5",
    needsOperator: false,
    sweeperStopped: false,
    ...over,
  });
  const verdict = (old: OldKeyFacts, over: Partial<VerdictInput> = {}) =>
    mainJobVerdict({
      rotation: "completed",
      oldKey: judgeOldKey(old, "deribit"),
      ledgerNeedsOperator: old.needsOperator ? 1 : 0,
      sweeperOutcome: old.sweeperStopped ? "needs-operator" : "ledger-clear",
      secretLeaks: 0,
      requestsWithRemovedKey: 0,
      ...over,
    });

  it("removed, or disabled with its removal still scheduled: exit 0", () => {
    expect(verdict(facts()).code).toBe(0);
    expect(verdict(facts({ state: "disabled" })).code).toBe(0);
  });

  it("disabled but its removal needs an operator: exit 1, says it lives and what to run", () => {
    const old = facts({ state: "disabled", needsOperator: true, sweeperStopped: true });
    const judged = judgeOldKey(old, "deribit");
    expect(judged.dead).toBe(false);
    expect(judged.fix).toContain("keyshift revocations retry acme-main#S1nK2bK5");
    const v = verdict(old);
    expect(v.code).toBe(1);
    expect(v.reasons.join("; ")).toContain("the old key still lives (disabled on the exchange)");
  });

  it("still active after the sweeper gave up (one-stage exchanges): exit 1", () => {
    const old = facts({ state: "active", sweeperStopped: true });
    expect(verdict(old, { rotation: "revocation-deferred", sweeperOutcome: "gave-up" }).code).toBe(1);
  });

  it("a leak fails even a revocation the sweeper cleared", () => {
    expect(verdict(facts(), { rotation: "revocation-deferred", secretLeaks: 1 }).code).toBe(1);
  });

  it("a stalled rotation is 2", () => {
    expect(verdict(facts({ state: "active" }), { rotation: "stalled" }).code).toBe(2);
  });
});
