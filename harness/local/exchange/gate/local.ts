import type { LocalExchange } from "../../exchanges";
import { CONSUMER_HOST_IP, fetchFrom } from "../caller-address";
import { tradingCall } from "./trading-client";
import type { GateSimulator } from "./types";

/** A trading key as an operator makes it on Gate: spot and futures, read and write. */
const TRADING_PERMS = [
  { name: "spot", read_only: false },
  { name: "futures", read_only: false },
];
const TRADING_SCOPE = ["futures:write", "spot:write"];

/**
 * Gate through its simulator, for the local stack: the main account's key bound to `adminIps`
 * (unbound when none: Gate does not require a bound key for sub-account management, in the
 * sources read), the trading key to `ips`; a trading service's call is the spot balance read.
 * `refuseRemoval` makes Gate refuse one key's deletion the next `attempts` times (a retired key
 * whose removal keeps failing while someone still trades with it).
 */
export function gateLocal(
  sim: GateSimulator,
): LocalExchange & { refuseRemoval(keyId: string, attempts: number): void } {
  return {
    refuseRemoval: (keyId, attempts) => sim.refuseRemoval(keyId, attempts),
    name: "gate",
    url: sim.url,
    provisionAccount(account, adminIps = []) {
      const admin = sim.createAccount(account, { mainIps: adminIps });
      return {
        exchange: "gate",
        endpoint: sim.url,
        apiKey: admin.apiKey,
        apiSecret: admin.apiSecret,
        userId: admin.userId,
      };
    },
    seedTradingKey(account, ips = []) {
      const key = sim.seedKey(account, { label: "trading_main", perms: TRADING_PERMS, ips });
      return {
        ...key,
        permissions: [...TRADING_SCOPE],
        ...(ips.length > 0 ? { ipAllowlist: [...new Set(ips)].sort() } : {}),
      };
    },
    trade: async (key, from = CONSUMER_HOST_IP) =>
      (await tradingCall(sim.url, key, { timeoutMs: 2000, fetchImpl: fetchFrom(from) })).ok,
    keys: (account) =>
      sim.keys(account).map((k) => ({ keyId: k.keyId, status: k.status, ipAllowlist: k.ips })),
    requestLog: () => sim.requestLog(),
    failRemovals: (rate) => sim.setFault("removeKey", { errorRate: rate, kind: "5xx" }),
    // Gate keys cannot be disabled: a revocation is the removal alone.
    refuseRevocations: (on) => sim.setFault("removeKey", { errorRate: on ? 1 : 0, kind: "5xx" }),
    reportsLastUse: true,
  };
}
