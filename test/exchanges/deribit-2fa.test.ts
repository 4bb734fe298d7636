import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DeribitSimulator, startDeribitSimulator } from "../../harness/local/exchange/deribit";
import {
  type DeribitAdminConfig,
  DeribitExchange,
  type DeribitExchangeOptions,
} from "../../src/adapters/exchange/deribit";
import { base32Decode, totp } from "../../src/adapters/exchange/deribit/totp";
import { ExchangePermanentError, ExchangeRetryableError, TotpWindowError } from "../../src/core/errors";
import { startDeribitProxy } from "./deribit-proxy";

const SCOPE = ["account:read", "trade:read_write"];
const SEED = "JBSWY3DPEHPK3PXP";
const OTHER_SEED = "KRSXG5CTMVRXEZLU";

// One virtual clock for the simulator and the adapters: time moves only when an adapter waits.
let clock = Date.UTC(2026, 0, 1, 0, 0, 5);
const now = () => clock;
const waits: number[] = [];
const sleep = async (ms: number) => {
  waits.push(ms);
  clock += ms;
};

let sim: DeribitSimulator;
let accounts = 0;
beforeAll(async () => {
  sim = await startDeribitSimulator({ now });
});
afterAll(async () => {
  await sim.close();
});

function account(totpSeed: string | null = SEED) {
  const name = `deribit-2fa-${++accounts}`;
  const admin = sim.createAccount(name, totpSeed ? { totpSeed } : {});
  sim.seedKey(name, { label: "trading_main", permissions: SCOPE });
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
    new DeribitExchange({ credentials: async () => ({ ...config, ...overrides }), now, sleep, ...options });
  return { name, admin, exchange };
}

async function failure(call: Promise<unknown>): Promise<Error> {
  const outcome = await call.then(
    (v) => v,
    (e: unknown) => e,
  );
  if (!(outcome instanceof Error)) throw new Error("expected a failure");
  return outcome;
}

describe("Deribit adapter: security-key (2FA) confirmation", () => {
  it("without a TOTP seed, fails telling the operator exactly what to do, and creates nothing", async () => {
    const { name, exchange } = account();
    const err = await failure(exchange().listKeys(name));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect(err.message).toContain('add the account\'s base32 2FA secret as "totpSeed" to the admin secret');
    expect(err.message).toContain("turn off the security-key requirement for API key management");
    const created = await failure(
      exchange().createKey(name, { label: "ks_aaaaaaaaaaaa", permissions: SCOPE }),
    );
    expect(created.message).toContain("totpSeed");
    expect(sim.keys(name).map((k) => k.label)).toEqual(["trading_main"]);
  });

  it("answers the challenges with one fresh TOTP code per 30-s window, never the same code twice", async () => {
    const { name, exchange } = account();
    // A caller outside Lambda (the CLI) may give itself a budget to wait each window out.
    const adapter = exchange({ totpSeed: SEED }, { tfaWaitBudgetMs: 35_000 });
    waits.length = 0;
    const before = clock;
    const created = await adapter.createKey(name, {
      label: "ks_bbbbbbbbbbbb",
      permissions: SCOPE,
      ipAllowlist: ["10.0.0.9"],
    });
    await adapter.disableKey(name, created.keyId);
    // create, edit (IP list), list and disable each needed a code: four windows, three waits.
    expect(waits.length).toBe(3);
    expect(Math.floor(clock / 30_000) - Math.floor(before / 30_000)).toBe(3);
    expect(sim.keys(name).find((k) => k.keyId === created.keyId)).toMatchObject({
      status: "disabled",
      ipAllowlist: ["10.0.0.9"],
    });
  });

  it("by default never sleeps a window out inside the Lambda: TotpWindowError, for the state machine's Retry", async () => {
    const { name, exchange } = account();
    const adapter = exchange({ totpSeed: SEED });
    clock = (Math.floor(clock / 30_000) + 1) * 30_000 + 1_000; // 29 s before the next window
    await adapter.listKeys(name);
    waits.length = 0;
    const err = await failure(adapter.listKeys(name));
    expect(err).toBeInstanceOf(TotpWindowError);
    expect(err).toBeInstanceOf(ExchangeRetryableError);
    expect(err.name).toBe("TotpWindowError");
    expect((err as TotpWindowError & { retryAfterSeconds?: number }).retryAfterSeconds).toBe(30);
    expect(err.message).toMatch(/each 2FA code once.*retry in \d+ s/);
    expect(waits).toEqual([]);
  });

  it("by default waits in process only when the next window is a few seconds away", async () => {
    const { name, exchange } = account();
    const adapter = exchange({ totpSeed: SEED });
    clock = (Math.floor(clock / 30_000) + 1) * 30_000 - 3_000; // 3 s before the next window
    await adapter.listKeys(name);
    waits.length = 0;
    await adapter.listKeys(name);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeLessThanOrEqual(5_000);
  });

  it("starts over once when another process already sent this window's code (used_tfa_code)", async () => {
    const { name, exchange } = account();
    clock = (Math.floor(clock / 30_000) + 1) * 30_000 + 1_000;
    await exchange({ totpSeed: SEED }).listKeys(name);
    waits.length = 0;
    // A second adapter (another Lambda) in the same window: Deribit refuses the code. By default it
    // hands the wait to the state machine; with a budget (the CLI) it waits and retries.
    expect(await failure(exchange({ totpSeed: SEED }).listKeys(name))).toBeInstanceOf(TotpWindowError);
    expect(waits).toEqual([]);
    await exchange({ totpSeed: SEED }, { tfaWaitBudgetMs: 35_000 }).listKeys(name);
    expect(waits.length).toBe(1);
  });

  it("starts over once when the challenge lapsed (challenge_timeout)", async () => {
    const { name, exchange } = account();
    let lapsed = 0;
    const proxy = await startDeribitProxy(sim.url, {
      intercept: (_method, body) =>
        body.includes("authorization_data") && lapsed++ === 0
          ? {
              status: 400,
              body: '{"jsonrpc":"2.0","error":{"message":"security_key_authorization_error","data":{"reason":"challenge_timeout"},"code":13668}}',
            }
          : undefined,
    });
    try {
      await exchange({ totpSeed: SEED, endpoint: proxy.url }, { tfaWaitBudgetMs: 35_000 }).listKeys(name);
      expect(lapsed).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it("maps a wrong seed (tfa_code_not_matched) to a permanent 13668 that says what to check, code not shown", async () => {
    const { name, exchange } = account();
    const err = await failure(exchange({ totpSeed: OTHER_SEED }).listKeys(name));
    expect(err).toBeInstanceOf(ExchangePermanentError);
    expect((err as { exchangeCode?: string }).exchangeCode).toBe("13668");
    expect(err.message).toContain("tfa_code_not_matched");
    expect(err.message).toContain('"totpSeed" is the account\'s 2FA secret');
    for (let step = -2; step <= 2; step++) {
      expect(err.message).not.toContain(totp(base32Decode(OTHER_SEED), clock + step * 30_000));
    }
    expect(err.message).not.toContain(OTHER_SEED);
  });

  it("asks nothing of accounts without the requirement", async () => {
    const { name, exchange } = account(null);
    waits.length = 0;
    await exchange().createKey(name, { label: "ks_cccccccccccc", permissions: SCOPE });
    await exchange().listKeys(name);
    expect(waits).toEqual([]);
  });
});
