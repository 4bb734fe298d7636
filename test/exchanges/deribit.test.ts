import { describe, it } from "vitest";
import { OUTSIDE_IP } from "../../harness/local/exchange/caller-address";
import { startDeribitSimulator } from "../../harness/local/exchange/deribit";
import { DeribitExchange, parseDeribitAdminSecret } from "../../src/adapters/exchange/deribit";
import { describeExchangeConformance } from "./conformance";

const TRADING_SCOPE = ["account:read", "trade:read_write", "wallet:none"];
/** The seed Deribit's own security-key article uses as its example. */
const TOTP_SEED = "JBSWY3DPEHPK3PXP";

describeExchangeConformance("deribit (simulator)", async () => {
  const sim = await startDeribitSimulator();
  const admin = sim.createAccount("deribit-conformance");
  const config = parseDeribitAdminSecret(
    {
      exchange: "deribit",
      endpoint: sim.url,
      clientId: admin.adminKeyId,
      clientSecret: admin.adminSecret,
      accountId: admin.accountId,
    },
    "keyshift/admin/deribit-conformance",
  );
  return {
    exchange: new DeribitExchange({ credentials: async () => config, verifyBudgetMs: 2_000 }),
    account: "deribit-conformance",
    simulated: true,
    seedCurrentKey: async () =>
      sim.seedKey("deribit-conformance", {
        label: "trading_main",
        permissions: TRADING_SCOPE,
        // Bound, and to this test's own address: keyshift verifies the copy from here.
        ipAllowlist: [OUTSIDE_IP, "10.1.2.4"],
      }),
    teardown: () => sim.close(),
  };
});

// The same contract with the account's security-key (2FA) requirement on: every management call
// that Deribit marks "TFA required" is answered with a TOTP code, one code per 30-s window. The
// simulator and the adapter share a virtual clock that only the adapter's waits move forward.
describeExchangeConformance("deribit (simulator, security keys on)", async () => {
  let clock = Date.UTC(2026, 0, 1);
  const now = () => clock;
  const sleep = async (ms: number) => {
    clock += ms;
  };
  const sim = await startDeribitSimulator({ now });
  const admin = sim.createAccount("deribit-2fa", { totpSeed: TOTP_SEED });
  const config = {
    endpoint: sim.url,
    clientId: admin.adminKeyId,
    clientSecret: admin.adminSecret,
    accountId: admin.accountId,
    totpSeed: TOTP_SEED,
  };
  return {
    // On AWS the state machine's Retry waits a spent window out (TotpWindowError); this contract run
    // calls the adapter directly, so it lets the adapter wait each window on the virtual clock.
    exchange: new DeribitExchange({
      credentials: async () => config,
      now,
      sleep,
      verifyBudgetMs: 2_000,
      tfaWaitBudgetMs: 35_000,
    }),
    account: "deribit-2fa",
    simulated: true,
    seedCurrentKey: async () =>
      sim.seedKey("deribit-2fa", { label: "trading_main", permissions: TRADING_SCOPE }),
    teardown: () => sim.close(),
  };
});

/**
 * Against the real testnet (never in CI: no network there). The operator makes, by hand on
 * test.deribit.com, an admin key (`account:read_write` and every scope of the trading key) and a
 * trading key standing for the key to rotate, and leaves room for two more keys.
 */
const env = process.env;
const TESTNET = {
  clientId: "KEYSHIFT_CONTRACT_DERIBIT_CLIENT_ID",
  clientSecret: "KEYSHIFT_CONTRACT_DERIBIT_CLIENT_SECRET",
  accountId: "KEYSHIFT_CONTRACT_DERIBIT_ACCOUNT_ID",
  currentClientId: "KEYSHIFT_CONTRACT_DERIBIT_CURRENT_CLIENT_ID",
  currentClientSecret: "KEYSHIFT_CONTRACT_DERIBIT_CURRENT_CLIENT_SECRET",
} as const;
const missing = Object.values(TESTNET).filter((name) => !env[name]);

if (missing.length === 0) {
  describeExchangeConformance("deribit (testnet)", async () => {
    const config = parseDeribitAdminSecret(
      {
        exchange: "deribit",
        endpoint: env.KEYSHIFT_CONTRACT_DERIBIT_ENDPOINT ?? "https://test.deribit.com",
        clientId: env[TESTNET.clientId],
        clientSecret: env[TESTNET.clientSecret],
        accountId: Number(env[TESTNET.accountId]),
        ...(env.KEYSHIFT_CONTRACT_DERIBIT_TOTP_SEED
          ? { totpSeed: env.KEYSHIFT_CONTRACT_DERIBIT_TOTP_SEED }
          : {}),
      },
      "KEYSHIFT_CONTRACT_DERIBIT_*",
    );
    return {
      exchange: new DeribitExchange({
        credentials: async () => config,
        timeoutMs: 10_000,
        verifyBudgetMs: 15_000,
      }),
      account: "deribit-testnet",
      simulated: false,
      seedCurrentKey: async () => ({
        keyId: env[TESTNET.currentClientId] ?? "",
        secret: env[TESTNET.currentClientSecret] ?? "",
      }),
      teardown: async () => {},
    };
  });
} else {
  describe.skip(`deribit (testnet): set ${missing.join(", ")} (and optionally KEYSHIFT_CONTRACT_DERIBIT_ENDPOINT, _TOTP_SEED) to run the conformance suite against test.deribit.com`, () => {
    it("needs testnet credentials", () => {});
  });
}
