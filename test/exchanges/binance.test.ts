import { describe, it } from "vitest";
import { startBinanceSimulator } from "../../harness/local/exchange/binance";
import { BinanceExchange, parseBinanceAdminSecret } from "../../src/adapters/exchange/binance";
import { ExchangeKeyNotFoundError } from "../../src/core/errors";
import type { Exchange } from "../../src/core/ports";
import { adapterFor, adminConfig, TRADING_FLAGS } from "./binance-helpers";
import { describeExchangeConformance } from "./conformance";

const ACCOUNT = "acct-binance";

/** As for Bybit (`bybit.test.ts`): the suite's `settle` reads a resolved "not-found" as "ok". */
function notFoundAsError(exchange: Exchange): Exchange {
  return Object.assign(Object.create(exchange) as Exchange, {
    removeKey: async (account: string, keyId: string) => {
      const outcome = await exchange.removeKey(account, keyId);
      if (outcome === "not-found")
        throw new ExchangeKeyNotFoundError(`binance: no key ${keyId} on ${account}`);
      return outcome;
    },
  });
}

describeExchangeConformance("binance (simulator)", async () => {
  const sim = await startBinanceSimulator({ seed: 9, maxKeys: 5 });
  const config = adminConfig(sim, sim.createAccount(ACCOUNT), { maxKeys: 5 });
  return {
    exchange: notFoundAsError(adapterFor(config)),
    account: ACCOUNT,
    simulated: true,
    // Bound to this machine's address (verifyKey must be able to call) and one other.
    seedCurrentKey: async () =>
      sim.seedKey(ACCOUNT, {
        label: "trading-main",
        flags: TRADING_FLAGS,
        ips: ["127.0.0.1", "203.0.113.7"],
      }),
    teardown: () => sim.close(),
  };
});

/**
 * Against Binance with the operator's own accounts. Binance's Spot testnet serves only `/api`
 * (no `/sapi`, no sub-accounts), so this needs a real master account, its sub-account and a key
 * made on the website (its secret is needed to test verifyKey; if it is IP-bound, the binding must
 * include this machine's address). It creates and deletes real keys.
 */
const env = {
  apiKey: process.env.KEYSHIFT_CONTRACT_BINANCE_API_KEY,
  apiSecret: process.env.KEYSHIFT_CONTRACT_BINANCE_API_SECRET,
  subAccountEmail: process.env.KEYSHIFT_CONTRACT_BINANCE_SUB_ACCOUNT_EMAIL,
  currentKey: process.env.KEYSHIFT_CONTRACT_BINANCE_CURRENT_KEY,
  currentSecret: process.env.KEYSHIFT_CONTRACT_BINANCE_CURRENT_SECRET,
  endpoint: process.env.KEYSHIFT_CONTRACT_BINANCE_ENDPOINT ?? "https://api.binance.com",
};
const missing = Object.entries(env)
  .filter(([, value]) => !value)
  .map(([name]) => `KEYSHIFT_CONTRACT_BINANCE_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);

if (missing.length === 0) {
  describeExchangeConformance("binance (live)", async () => {
    const config = parseBinanceAdminSecret({ exchange: "binance", ...env }, "KEYSHIFT_CONTRACT_BINANCE_*");
    return {
      exchange: notFoundAsError(
        new BinanceExchange({ credentials: async () => config, verifyBudgetMs: 10_000, timeoutMs: 10_000 }),
      ),
      account: "live",
      simulated: false,
      seedCurrentKey: async () => ({ keyId: env.currentKey as string, secret: env.currentSecret as string }),
      teardown: async () => {},
    };
  });
} else {
  describe.skip(`binance (live): set ${missing.join(", ")} to run the conformance suite against a real Binance account`, () => {
    it("needs credentials (never in CI: no network)", () => {});
  });
}
