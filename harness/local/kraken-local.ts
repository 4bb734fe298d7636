import { verifyKey } from "../../src/adapters/exchange/kraken/verify";
import { CONSUMER_HOST_IP, fetchFrom } from "./exchange/caller-address";
import type { CreatedKey, CreateKeyInput, KrakenSimulator } from "./exchange/kraken";
import type { LocalExchange, SeededTradingKey } from "./exchanges";

/** A trading key's scope on Kraken (its permission names as GetApiKeyInfo lists them). */
export const KRAKEN_TRADING_SCOPE = ["modify-trades", "query-funds", "query-open-trades"];

/**
 * What a person does at Kraken's web UI (Settings → API): the only way a Kraken key is made or
 * deleted. The scripted operator of `npm start -- --exchange kraken` and the tests act through it.
 */
export interface WebUi {
  createKey(account: string, input: CreateKeyInput): CreatedKey;
  deleteKey(account: string, keyId: string): void;
}

/** The Kraken simulator behind the local stack's one exchange interface, plus its web UI. */
export function krakenLocal(sim: KrakenSimulator): LocalExchange & { webUi: WebUi } {
  return {
    name: "kraken",
    url: sim.url,
    // No admin key: a manual account's "admin secret" names the exchange, the mode and the endpoint.
    provisionAccount(account) {
      sim.createAccount(account);
      return { exchange: "kraken", keyManagement: "manual", endpoint: sim.url };
    },
    seedTradingKey(account, ips = []): SeededTradingKey {
      const key = sim.createKey(account, {
        name: "trading_main",
        permissions: KRAKEN_TRADING_SCOPE,
        ipAllowlist: ips,
      });
      return {
        ...key,
        permissions: [...KRAKEN_TRADING_SCOPE],
        ...(ips.length > 0 ? { ipAllowlist: [...ips] } : {}),
      };
    },
    // A trading service's private call (Balance) signed by its key, from its host.
    trade: async (key, from = CONSUMER_HOST_IP) => {
      try {
        await verifyKey(key, {
          endpoint: sim.url,
          account: "trading",
          timeoutMs: 2000,
          fetchImpl: fetchFrom(from),
        });
        return true;
      } catch {
        return false;
      }
    },
    keys: (account) =>
      sim.keys(account).map((k) => ({
        keyId: k.keyId,
        status: k.status === "active" ? "active" : k.status === "removed" ? "removed" : "disabled",
        ipAllowlist: k.ipAllowlist,
      })),
    requestLog: () => sim.requestLog(),
    // Kraken has no key API to fail: a person deletes keys.
    failRemovals: () => undefined,
    webUi: { createKey: sim.createKey, deleteKey: sim.deleteKey },
  };
}
