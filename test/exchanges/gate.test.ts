import { describe, it } from "vitest";
import { startGateSimulator } from "../../harness/local/exchange/gate";
import { GateExchange, parseGateAdminSecret } from "../../src/adapters/exchange/gate";
import { ExchangeKeyNotFoundError } from "../../src/core/errors";
import type { Exchange } from "../../src/core/ports";
import { describeExchangeConformance } from "./conformance";
import { adapterFor, adminConfig, TRADING_PERMS } from "./gate-helpers";

const ACCOUNT = "acct-gate";

/** As in okx.test.ts: the suite's `settle` reads a resolved "not-found" as "ok". */
function notFoundAsError(exchange: Exchange): Exchange {
  return Object.assign(Object.create(exchange) as Exchange, {
    removeKey: async (account: string, keyId: string) => {
      const outcome = await exchange.removeKey(account, keyId);
      if (outcome === "not-found") throw new ExchangeKeyNotFoundError(`gate: no key ${keyId} on ${account}`);
      return outcome;
    },
  });
}

describeExchangeConformance("gate (simulator)", async () => {
  const sim = await startGateSimulator({ seed: 9, maxKeys: 5 });
  const config = adminConfig(sim, sim.createAccount(ACCOUNT), { maxKeys: 5 });
  return {
    exchange: notFoundAsError(adapterFor(config)),
    account: ACCOUNT,
    simulated: true,
    // Bound to this machine's address (verifyKey must be able to call) and one other.
    seedCurrentKey: async () =>
      sim.seedKey(ACCOUNT, {
        label: "trading-main",
        perms: TRADING_PERMS,
        ips: ["127.0.0.1", "203.0.113.7"],
      }),
    teardown: () => sim.close(),
  };
});

/**
 * Against Gate with the operator's own accounts: the main account's APIv4 key (bound to this
 * machine's address), the sub-account's user_id, and a key of that sub-account made on the website.
 */
const env = {
  apiKey: process.env.KEYSHIFT_CONTRACT_GATE_API_KEY,
  apiSecret: process.env.KEYSHIFT_CONTRACT_GATE_API_SECRET,
  userId: process.env.KEYSHIFT_CONTRACT_GATE_USER_ID,
  currentKey: process.env.KEYSHIFT_CONTRACT_GATE_CURRENT_KEY,
  currentSecret: process.env.KEYSHIFT_CONTRACT_GATE_CURRENT_SECRET,
  endpoint: process.env.KEYSHIFT_CONTRACT_GATE_ENDPOINT ?? "https://api.gateio.ws",
};
const missing = Object.entries(env)
  .filter(([, value]) => !value)
  .map(([name]) => `KEYSHIFT_CONTRACT_GATE_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);

if (missing.length === 0) {
  describeExchangeConformance("gate (live)", async () => {
    const config = parseGateAdminSecret(
      {
        exchange: "gate",
        endpoint: env.endpoint,
        apiKey: env.apiKey,
        apiSecret: env.apiSecret,
        userId: env.userId,
      },
      "KEYSHIFT_CONTRACT_GATE_*",
    );
    return {
      exchange: notFoundAsError(
        new GateExchange({ credentials: async () => config, verifyBudgetMs: 10_000, timeoutMs: 10_000 }),
      ),
      account: "live",
      simulated: false,
      seedCurrentKey: async () => ({ keyId: env.currentKey as string, secret: env.currentSecret as string }),
      teardown: async () => {},
    };
  });
} else {
  describe.skip(`gate (live): set ${missing.join(", ")} to run the conformance suite against Gate`, () => {
    it("needs credentials (never in CI: no network)", () => {});
  });
}
