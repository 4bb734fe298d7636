import type { ExchangeEndpoint } from "../faults";
import type { OkxActivityBook } from "./activity";
import { CODE, OkxSimError } from "./errors";
import type { OkxStore, SimKey } from "./store";

export type OkxOperation =
  | "config"
  | "balance"
  | "listKeys"
  | "createKey"
  | "modifyKey"
  | "deleteKey"
  | "placeOrder"
  | "fills"
  | "fillsHistory"
  | "subAccountBills";

/** The v5 endpoints keyshift and a trading service call, each with the fault endpoint it shares. */
const ROUTES: Record<
  string,
  { method: "GET" | "POST"; operation: OkxOperation; endpoint: ExchangeEndpoint }
> = {
  "/api/v5/account/config": { method: "GET", operation: "config", endpoint: "account" },
  "/api/v5/account/balance": { method: "GET", operation: "balance", endpoint: "account" },
  "/api/v5/users/subaccount/apikey#GET": { method: "GET", operation: "listKeys", endpoint: "listKeys" },
  "/api/v5/users/subaccount/apikey#POST": { method: "POST", operation: "createKey", endpoint: "createKey" },
  "/api/v5/users/subaccount/modify-apikey": { method: "POST", operation: "modifyKey", endpoint: "editKey" },
  "/api/v5/users/subaccount/delete-apikey": { method: "POST", operation: "deleteKey", endpoint: "removeKey" },
  // What a trading service does and what reports it (`activity.ts`).
  "/api/v5/trade/order": { method: "POST", operation: "placeOrder", endpoint: "account" },
  "/api/v5/trade/fills": { method: "GET", operation: "fills", endpoint: "account" },
  "/api/v5/trade/fills-history": { method: "GET", operation: "fillsHistory", endpoint: "account" },
  "/api/v5/asset/subaccount/bills": { method: "GET", operation: "subAccountBills", endpoint: "account" },
};

export function matchRoute(method: string, pathname: string) {
  const route = ROUTES[pathname] ?? ROUTES[`${pathname}#${method}`];
  return route && route.method === method ? route : undefined;
}

export interface OperationInput {
  query: URLSearchParams;
  /** Parsed JSON body of a POST. */
  body: Record<string, unknown>;
}

/** Sub-account key management: "Applies to master accounts only". */
function requireMaster(caller: SimKey): void {
  if (!caller.master)
    throw new OkxSimError(CODE.masterOnly, "Only the APIKey of the main account has permission");
}

/** Create, modify, delete: "master accounts API Key must be linked to IP addresses", and Trade permission. */
function requireManagingMaster(caller: SimKey): void {
  requireMaster(caller);
  if (caller.ips.length === 0) {
    throw new OkxSimError(CODE.ipBindingRequired, "This endpoint requires that APIKey must be bound to IP");
  }
  if (!caller.perm.includes("trade")) throw new OkxSimError("50030", "No permission to use this API");
}

const listed = (key: SimKey) => ({
  label: key.label,
  apiKey: key.apiKey,
  perm: key.perm.join(","),
  ip: key.ips.join(","),
  ts: String(key.createdAt),
});

/** Runs an authenticated call as OKX would for `caller`; the answer's `data` array. */
export function runOperation(
  operation: OkxOperation,
  caller: SimKey,
  input: OperationInput,
  store: OkxStore,
  book: OkxActivityBook,
): unknown[] {
  switch (operation) {
    case "placeOrder":
      return book.placeOrder(caller, input.body);
    case "fills":
      return book.fillsOf(caller, input.query);
    case "fillsHistory":
      return book.fillsOf(caller, input.query, true);
    case "subAccountBills":
      return book.subAccountBills(caller, input.query);
    case "config":
      return [
        {
          uid: caller.uid,
          mainUid: store.masterUidOf(caller.uid),
          acctLv: "2",
          posMode: "net_mode",
          autoLoan: false,
          level: "Lv1",
          perm: caller.perm.join(","),
          ip: caller.ips.join(","),
          label: caller.label,
        },
      ];
    case "balance":
      return [{ uTime: String(store.now()), totalEq: "0", details: [] }];
    case "listKeys": {
      requireMaster(caller);
      const sub = store.ownedSub(caller.uid, input.query.get("subAcct") ?? "");
      const apiKey = input.query.get("apiKey");
      return store
        .subKeys(sub)
        .filter((key) => !apiKey || key.apiKey === apiKey)
        .map(listed);
    }
    case "createKey": {
      requireManagingMaster(caller);
      const key = store.createSubKey(caller.uid, input.body);
      const sub = store.ownedSub(caller.uid, input.body.subAcct);
      return [{ subAcct: sub.name, ...listed(key), secretKey: key.secretKey, passphrase: key.passphrase }];
    }
    case "modifyKey": {
      requireManagingMaster(caller);
      const { sub, key } = store.modifySubKey(caller.uid, input.body);
      return [{ subAcct: sub.name, ...listed(key) }];
    }
    case "deleteKey": {
      requireManagingMaster(caller);
      const sub = store.ownedSub(caller.uid, input.body.subAcct);
      store.remove(store.subKey(sub, input.body.apiKey));
      return [{ subAcct: sub.name }];
    }
  }
}
