import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CONSUMER_HOST_IP,
  EGRESS_IP,
  fetchFrom,
  OUTSIDE_IP,
} from "../../harness/local/exchange/caller-address";
import { type KrakenSimulator, startKrakenSimulator } from "../../harness/local/exchange/kraken";
import {
  describeKey,
  type KrakenCallOptions,
  keyStillAuthenticates,
  MonotonicNonce,
  parseKrakenAccountConfig,
  verifyKey,
} from "../../src/adapters/exchange/kraken";
import {
  ExchangeIpRefusedError,
  ExchangePermanentError,
  ExchangeRetryableError,
  RotationStateError,
} from "../../src/core/errors";
import { FULL_TRADING } from "./kraken-helpers";

/** The adapter's verify against the simulator: each refusal lands on the error class the state machine matches. */
describe("Kraken verifyKey against the simulator", () => {
  let sim: KrakenSimulator;
  let opts: KrakenCallOptions;
  const secrets: string[] = [];
  let n = 0;

  beforeAll(async () => {
    sim = await startKrakenSimulator({ seed: 4, timeoutMs: 300 });
    sim.createAccount("acct-v");
    opts = { endpoint: sim.url, account: "acct-v", fetchImpl: fetchFrom(EGRESS_IP), timeoutMs: 1_000 };
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => sim.clearFaults());

  const key = (input: { permissions?: string[]; ipAllowlist?: string[] } = {}) => {
    const created = sim.createKey("acct-v", {
      name: `k${++n}`,
      permissions: input.permissions ?? FULL_TRADING,
      ipAllowlist: input.ipAllowlist ?? [EGRESS_IP, CONSUMER_HOST_IP],
    });
    secrets.push(created.secret);
    return created;
  };

  /** The error, with its message checked for every secret this suite has seen. */
  async function failure(promise: Promise<unknown>): Promise<Error> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const text = `${(err as Error).message} ${JSON.stringify(err)}`;
    for (const secret of secrets) expect(text).not.toContain(secret);
    return err as Error;
  }

  it("verifies a good key with one Balance call it signs itself", async () => {
    const k = key();
    await expect(verifyKey(k, opts)).resolves.toBeUndefined();
    const calls = sim.requestLog().filter((e) => e.keyId === k.keyId);
    expect(calls.map((e) => e.path)).toEqual(["/0/private/Balance"]);
  });

  it("describes a key: permissions and allow-list, never a secret", async () => {
    const k = key({ permissions: ["query-funds", "modify-trades"] });
    const description = await describeKey(k, opts);
    expect(description).toEqual({
      keyId: k.keyId,
      name: expect.any(String),
      permissions: ["query-funds", "modify-trades"],
      ipAllowlist: [EGRESS_IP, CONSUMER_HOST_IP],
      nonceWindow: 0,
    });
    expect(JSON.stringify(description)).not.toContain(k.secret);
  });

  it("a deleted key: ExchangePermanentError with EAPI:Invalid key", async () => {
    const k = key();
    sim.deleteKey("acct-v", k.keyId);
    const err = await failure(verifyKey(k, opts));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err).not.toBeInstanceOf(ExchangeIpRefusedError);
    expect((err as { exchangeCode?: string }).exchangeCode).toBe("EAPI:Invalid key");
  });

  it("a wrong private key: ExchangePermanentError with EAPI:Invalid signature", async () => {
    const k = key();
    const other = key();
    const err = await failure(verifyKey({ keyId: k.keyId, secret: other.secret }, opts));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect((err as { exchangeCode?: string }).exchangeCode).toBe("EAPI:Invalid signature");
  });

  it("a nonce below the key's highest (another client on a larger scale): ExchangePermanentError with EAPI:Invalid nonce", async () => {
    const k = key();
    await verifyKey(k, { ...opts, nonce: new MonotonicNonce(() => Date.now() * 1000) });
    const err = await failure(verifyKey(k, { ...opts, nonce: new MonotonicNonce() }));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect((err as { exchangeCode?: string }).exchangeCode).toBe("EAPI:Invalid nonce");
  });

  it("a caller outside the key's IP allow-list: ExchangeIpRefusedError", async () => {
    const k = key();
    const err = await failure(verifyKey(k, { ...opts, fetchImpl: fetchFrom(OUTSIDE_IP) }));
    expect(err).toBeInstanceOf(ExchangeIpRefusedError);
    expect(err.message).toContain("IP allow-list");
  });

  it("a key without Query Funds: ExchangePermanentError naming the permission, not an IP refusal", async () => {
    const k = key({ permissions: ["modify-trades", "close-trades"] });
    const err = await failure(verifyKey(k, opts));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err).not.toBeInstanceOf(ExchangeIpRefusedError);
    expect(err.message).toContain('lacks "Query Funds"');
    expect((err as { exchangeCode?: string }).exchangeCode).toBe("EGeneral:Permission denied");
  });

  it("an outage or a rate limit: ExchangeRetryableError", async () => {
    const k = key();
    sim.setFault("account", { failNext: 1, kind: "5xx" });
    expect(await failure(verifyKey(k, opts))).toBeInstanceOf(ExchangeRetryableError);
    sim.setFault("account", { failNext: 1, kind: "429" });
    expect(await failure(verifyKey(k, opts))).toBeInstanceOf(ExchangeRetryableError);
    sim.setFault("account", { failNext: 1, kind: "4xx" });
    const edge = await failure(verifyKey(k, opts));
    expect(edge).toBeInstanceOf(ExchangePermanentError);
    expect(edge.message).toContain("without Kraken's");
    await expect(verifyKey(k, opts)).resolves.toBeUndefined();
  });

  it("keyStillAuthenticates: true while the key exists (even refused), false once a person deleted it", async () => {
    const k = key();
    expect(await keyStillAuthenticates(k, opts)).toBe(true);
    expect(await keyStillAuthenticates(k, { ...opts, fetchImpl: fetchFrom(OUTSIDE_IP) })).toBe(true);
    sim.deleteKey("acct-v", k.keyId);
    expect(await keyStillAuthenticates(k, opts)).toBe(false);
    sim.setFault("account", { failNext: 1, kind: "5xx" });
    expect(await failure(keyStillAuthenticates(k, opts))).toBeInstanceOf(ExchangeRetryableError);
  });
});

describe("Kraken account config (keyManagement: manual)", () => {
  it("takes the manual shape, with Kraken's endpoint by default", () => {
    expect(parseKrakenAccountConfig({ exchange: "kraken", keyManagement: "manual" }, "s")).toEqual({
      exchange: "kraken",
      keyManagement: "manual",
      endpoint: "https://api.kraken.com",
    });
    expect(
      parseKrakenAccountConfig(
        { exchange: "kraken", keyManagement: "manual", endpoint: "http://127.0.0.1:9" },
        "s",
      ).endpoint,
    ).toBe("http://127.0.0.1:9");
  });

  it("refuses an admin key, a non-manual mode and a clear-text endpoint, naming fields but never values", () => {
    const secret = "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1uZXZlci1sZWFr";
    const withKey = () =>
      parseKrakenAccountConfig({ exchange: "kraken", keyManagement: "manual", apiSecret: secret }, "s");
    expect(withKey).toThrow(RotationStateError);
    expect(withKey).toThrow(/"apiSecret" not expected/);
    try {
      withKey();
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
    expect(() => parseKrakenAccountConfig({ exchange: "kraken", keyManagement: "api" }, "s")).toThrow(
      /"keyManagement"/,
    );
    expect(() =>
      parseKrakenAccountConfig(
        { exchange: "kraken", keyManagement: "manual", endpoint: "http://api.kraken.com" },
        "s",
      ),
    ).toThrow(/"endpoint"/);
    expect(() => parseKrakenAccountConfig({ exchange: "bybit", keyManagement: "manual" }, "s")).toThrow(
      /"exchange"/,
    );
  });
});
