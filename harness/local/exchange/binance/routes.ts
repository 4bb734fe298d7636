import type { ExchangeEndpoint } from "../faults";
import { invalid, rejectedKey } from "./errors";
import { type BinanceStore, FLAG_NAMES, type SimKey } from "./store";

export type BinanceOperation = "account" | "listKeys" | "ipRestriction" | "createKey" | "deleteKey";

/** The endpoints keyshift and a trading service use; the IP restriction read shares `listKeys`'s faults. */
const ROUTES: Record<string, { operation: BinanceOperation; endpoint: ExchangeEndpoint }> = {
  "GET /api/v3/account": { operation: "account", endpoint: "account" },
  "GET /sapi/v1/sub-account/subAccountApi": { operation: "listKeys", endpoint: "listKeys" },
  "GET /sapi/v1/sub-account/subAccountApi/ipRestriction": {
    operation: "ipRestriction",
    endpoint: "listKeys",
  },
  "POST /sapi/v1/sub-account/subAccountApi": { operation: "createKey", endpoint: "createKey" },
  "DELETE /sapi/v1/sub-account/subAccountApi": { operation: "deleteKey", endpoint: "removeKey" },
};

export function matchRoute(method: string, pathname: string) {
  return ROUTES[`${method} ${pathname}`];
}

/** Sub-account management is the master's; creating and deleting needs its Spot & Margin Trading (TRADE). */
function requireMaster(caller: SimKey, trade: boolean): void {
  if (!caller.master || (trade && !caller.flags.canTrade)) throw rejectedKey();
}

function intParam(params: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  const value = /^\d{1,6}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) throw invalid(name);
  return value;
}

const flagsOf = (key: SimKey) => Object.fromEntries(FLAG_NAMES.map((name) => [name, key.flags[name]]));

/** Runs an authenticated call as Binance would for `caller`. */
export function runOperation(
  operation: BinanceOperation,
  caller: SimKey,
  params: URLSearchParams,
  store: BinanceStore,
) {
  switch (operation) {
    case "account":
      // USER_DATA: any key that can read (every key can).
      return {
        makerCommission: 10,
        takerCommission: 10,
        canTrade: caller.flags.canTrade,
        canWithdraw: false,
        canDeposit: true,
        updateTime: store.now(),
        accountType: "SPOT",
        balances: [],
        permissions: ["SPOT"],
        uid: Number(caller.masterId) + (caller.master ? 0 : 1),
      };
    case "listKeys": {
      requireMaster(caller, false);
      const sub = store.ownedSub(caller.masterId, params.get("email"));
      const page = intParam(params, "page", 1, 100_000, 1);
      const size = intParam(params, "size", 1, 100, 30);
      const exact = params.get("subAccountApiKey");
      const keys = store.subKeys(sub).filter((k) => !exact || k.apiKey === exact);
      const rows = keys.slice((page - 1) * size, page * size).map((k) => ({
        email: sub.email,
        apiName: k.apiName,
        apikey: k.apiKey,
        ...flagsOf(k),
        timestamp: k.createdAt,
      }));
      return { total: keys.length, rows };
    }
    case "ipRestriction": {
      requireMaster(caller, false);
      const key = store.subKey(
        store.ownedSub(caller.masterId, params.get("email")),
        params.get("subAccountApiKey"),
      );
      return {
        ipRestrict: key.ips.length > 0 ? "true" : "false",
        ipList: [...key.ips],
        updateTime: key.createdAt,
        apiKey: key.apiKey,
      };
    }
    case "createKey": {
      requireMaster(caller, true);
      const key = store.createSubKey(caller.masterId, params);
      return {
        apiName: key.apiName,
        apiKey: key.apiKey,
        secretKey: key.secret,
        ...flagsOf(key),
        status: key.ips.length > 0 ? 2 : 1,
        ipList: [...key.ips],
      };
    }
    case "deleteKey": {
      requireMaster(caller, true);
      const key = store.subKey(
        store.ownedSub(caller.masterId, params.get("email")),
        params.get("subAccountApiKey"),
      );
      store.remove(key);
      return {};
    }
  }
}
