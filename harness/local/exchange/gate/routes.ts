import type { ExchangeEndpoint } from "../faults";
import { GateSimError, LABEL } from "./errors";
import type { GateStore, SimKey } from "./store";

export type GateOperation =
  | "detail"
  | "spotAccounts"
  | "spotOrder"
  | "listKeys"
  | "createKey"
  | "getKey"
  | "updateKey"
  | "deleteKey";

type Method = "GET" | "POST" | "PUT" | "DELETE";

/** The APIv4 endpoints keyshift and a trading service call, each with the fault endpoint it shares. */
const ROUTES: Array<{ method: Method; path: RegExp; operation: GateOperation; endpoint: ExchangeEndpoint }> =
  [
    { method: "GET", path: /^\/api\/v4\/account\/detail$/, operation: "detail", endpoint: "account" },
    { method: "GET", path: /^\/api\/v4\/spot\/accounts$/, operation: "spotAccounts", endpoint: "account" },
    { method: "POST", path: /^\/api\/v4\/spot\/orders$/, operation: "spotOrder", endpoint: "account" },
    {
      method: "GET",
      path: /^\/api\/v4\/sub_accounts\/(\d+)\/keys$/,
      operation: "listKeys",
      endpoint: "listKeys",
    },
    {
      method: "POST",
      path: /^\/api\/v4\/sub_accounts\/(\d+)\/keys$/,
      operation: "createKey",
      endpoint: "createKey",
    },
    {
      method: "GET",
      path: /^\/api\/v4\/sub_accounts\/(\d+)\/keys\/([^/]+)$/,
      operation: "getKey",
      endpoint: "listKeys",
    },
    {
      method: "PUT",
      path: /^\/api\/v4\/sub_accounts\/(\d+)\/keys\/([^/]+)$/,
      operation: "updateKey",
      endpoint: "editKey",
    },
    {
      method: "DELETE",
      path: /^\/api\/v4\/sub_accounts\/(\d+)\/keys\/([^/]+)$/,
      operation: "deleteKey",
      endpoint: "removeKey",
    },
  ];

export interface MatchedRoute {
  operation: GateOperation;
  endpoint: ExchangeEndpoint;
  userId: string;
  keyId: string;
}

export function matchRoute(method: string, pathname: string): MatchedRoute | undefined {
  for (const route of ROUTES) {
    const m = route.method === method ? route.path.exec(pathname) : null;
    if (m)
      return { operation: route.operation, endpoint: route.endpoint, userId: m[1] ?? "", keyId: m[2] ?? "" };
  }
  return undefined;
}

/** Sub-account management: the main account's key only; changes need a key that is not read-only. */
function requireMain(caller: SimKey, write: boolean): void {
  if (!caller.main)
    throw new GateSimError(LABEL.forbidden, "only the main account may manage sub-accounts", 403);
  if (write && caller.perms.every((p) => p.read_only)) {
    throw new GateSimError(LABEL.readOnly, "API key is read-only", 403);
  }
}

/** A trading endpoint of `fn`: the key must list the function, with write access when `write`. */
function requirePerm(caller: SimKey, fn: string, write: boolean): void {
  const perm = caller.perms.find((p) => p.name === fn);
  if (!perm) throw new GateSimError(LABEL.forbidden, `API key has no ${fn} permission`, 403);
  if (write && perm.read_only) throw new GateSimError(LABEL.readOnly, "API key is read-only", 403);
}

/** `SubAccountKey` as Gate answers it: times in Unix seconds, `last_access` 0 for a key never used. */
export const keyObject = (key: SimKey) => ({
  user_id: Number(key.uid),
  mode: key.mode,
  name: key.name,
  perms: key.perms.map((p) => ({ ...p })),
  ip_whitelist: [...key.ips],
  key: key.key,
  state: 1,
  created_at: Math.floor(key.createdAt / 1000),
  updated_at: Math.floor(key.updatedAt / 1000),
  last_access: key.lastAccess === undefined ? 0 : Math.floor(key.lastAccess / 1000),
});

/** Runs an authenticated call as Gate would for `caller`: the answer's status and body. */
export function runOperation(
  route: MatchedRoute,
  caller: SimKey,
  body: Record<string, unknown>,
  store: GateStore,
): { status: number; body?: unknown } {
  switch (route.operation) {
    case "detail":
      return {
        status: 200,
        body: {
          user_id: Number(caller.uid),
          ip_whitelist: caller.ips,
          currency_pairs: [],
          key: { mode: caller.mode },
          tier: 0,
        },
      };
    case "spotAccounts":
      requirePerm(caller, "spot", false);
      return { status: 200, body: [{ currency: "USDT", available: "1000", locked: "0", update_id: 1 }] };
    case "spotOrder":
      requirePerm(caller, "spot", true);
      return { status: 201, body: spotOrder(body, store.now()) };
    case "listKeys":
      requireMain(caller, false);
      return { status: 200, body: store.subKeys(store.ownedSub(caller.uid, route.userId)).map(keyObject) };
    case "getKey":
      requireMain(caller, false);
      return {
        status: 200,
        body: keyObject(store.subKey(store.ownedSub(caller.uid, route.userId), route.keyId)),
      };
    case "createKey": {
      requireMain(caller, true);
      const key = store.createSubKey(caller.uid, route.userId, body);
      return { status: 200, body: { ...keyObject(key), secret: key.secret } };
    }
    case "updateKey":
      requireMain(caller, true);
      store.updateSubKey(caller.uid, route.userId, route.keyId, body);
      return { status: 204 };
    case "deleteKey":
      requireMain(caller, true);
      store.remove(store.subKey(store.ownedSub(caller.uid, route.userId), route.keyId));
      return { status: 204 };
  }
}

/** `POST /spot/orders`: a limit order is accepted and left open (the simulator has no matching engine). */
function spotOrder(body: Record<string, unknown>, nowMs: number) {
  for (const field of ["currency_pair", "side", "amount"]) {
    if (typeof body[field] !== "string" || body[field] === "") {
      throw new GateSimError(LABEL.invalidParam, `invalid value of ${field}`);
    }
  }
  return {
    id: String(nowMs),
    text: typeof body.text === "string" ? body.text : "apiv4",
    create_time: String(Math.floor(nowMs / 1000)),
    status: "open",
    currency_pair: body.currency_pair,
    type: typeof body.type === "string" ? body.type : "limit",
    side: body.side,
    amount: body.amount,
    price: typeof body.price === "string" ? body.price : "0",
  };
}
