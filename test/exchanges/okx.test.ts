import { describe, it } from "vitest";
import { startOkxSimulator } from "../../harness/local/exchange/okx";
import { OkxExchange, parseOkxAdminSecret } from "../../src/adapters/exchange/okx";
import { ExchangeKeyNotFoundError } from "../../src/core/errors";
import type { Exchange } from "../../src/core/ports";
import { describeExchangeConformance } from "./conformance";
import { adapterFor, adminConfig, TRADING_PERM } from "./okx-helpers";

const ACCOUNT = "acct-okx";

/** As in bybit.test.ts: the suite's `settle` reads a resolved "not-found" as "ok". */
function notFoundAsError(exchange: Exchange): Exchange {
  return Object.assign(Object.create(exchange) as Exchange, {
    removeKey: async (account: string, keyId: string) => {
      const outcome = await exchange.removeKey(account, keyId);
      if (outcome === "not-found") throw new ExchangeKeyNotFoundError(`okx: no key ${keyId} on ${account}`);
      return outcome;
    },
  });
}

describeExchangeConformance("okx (simulator)", async () => {
  const sim = await startOkxSimulator({ seed: 9, maxKeys: 5 });
  const config = adminConfig(sim, sim.createAccount(ACCOUNT), { maxKeys: 5 });
  return {
    exchange: notFoundAsError(adapterFor(config)),
    account: ACCOUNT,
    simulated: true,
    // Bound to this machine's address (verifyKey must be able to call) and one other.
    seedCurrentKey: async () =>
      sim.seedKey(ACCOUNT, { label: "trading-main", perm: TRADING_PERM, ips: ["127.0.0.1", "203.0.113.7"] }),
    teardown: () => sim.close(),
  };
});

/**
 * Against OKX's demo trading with the operator's own accounts: the master's demo key (IP-bound to
 * this machine's address: OKX lets only a bound master key manage sub-account keys) and
 * sub-account, and a sub-account demo key made on the website with its secret key and passphrase.
 */
const env = {
  apiKey: process.env.KEYSHIFT_CONTRACT_OKX_API_KEY,
  secretKey: process.env.KEYSHIFT_CONTRACT_OKX_SECRET_KEY,
  passphrase: process.env.KEYSHIFT_CONTRACT_OKX_PASSPHRASE,
  subAcct: process.env.KEYSHIFT_CONTRACT_OKX_SUB_ACCT,
  currentKey: process.env.KEYSHIFT_CONTRACT_OKX_CURRENT_KEY,
  currentSecret: process.env.KEYSHIFT_CONTRACT_OKX_CURRENT_SECRET,
  currentPassphrase: process.env.KEYSHIFT_CONTRACT_OKX_CURRENT_PASSPHRASE,
  endpoint: process.env.KEYSHIFT_CONTRACT_OKX_ENDPOINT ?? "https://www.okx.com",
};
const missing = Object.entries(env)
  .filter(([, value]) => !value)
  .map(([name]) => `KEYSHIFT_CONTRACT_OKX_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);

if (missing.length === 0) {
  describeExchangeConformance("okx (demo trading)", async () => {
    const config = parseOkxAdminSecret(
      {
        exchange: "okx",
        endpoint: env.endpoint,
        apiKey: env.apiKey,
        secretKey: env.secretKey,
        passphrase: env.passphrase,
        subAcct: env.subAcct,
        demo: true,
      },
      "KEYSHIFT_CONTRACT_OKX_*",
    );
    return {
      exchange: notFoundAsError(
        new OkxExchange({ credentials: async () => config, verifyBudgetMs: 10_000, timeoutMs: 10_000 }),
      ),
      account: "demo",
      simulated: false,
      seedCurrentKey: async () => ({
        keyId: env.currentKey as string,
        secret: env.currentSecret as string,
        passphrase: env.currentPassphrase as string,
      }),
      teardown: async () => {},
    };
  });
} else {
  describe.skip(`okx (demo trading): set ${missing.join(", ")} to run the conformance suite against OKX's demo trading`, () => {
    it("needs credentials (never in CI: no network)", () => {});
  });
}
