import type { ExchangeEndpoint } from "../faults";
import { parseJsonObject, SimulatorError } from "../http-util";
import type { AccountStore, StoredKey } from "./accounts";

export interface Route {
  endpoint: ExchangeEndpoint;
  /** The `:keyId` path parameter, for disable/remove. */
  keyId?: string;
}

export interface RouteResult {
  status: number;
  body: unknown;
}

const KEY_PATH = /^\/v1\/keys\/([^/]+)$/;
const DISABLE_PATH = /^\/v1\/keys\/([^/]+)\/disable$/;

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new SimulatorError(400, "INVALID_REQUEST", "malformed key id in path");
  }
}

/** Maps method + path (no query) to an endpoint; undefined for anything the exchange does not serve. */
export function matchRoute(method: string, pathname: string): Route | undefined {
  if (pathname === "/v1/keys") {
    if (method === "POST") return { endpoint: "createKey" };
    if (method === "GET") return { endpoint: "listKeys" };
    return undefined;
  }
  if (pathname === "/v1/account") return method === "GET" ? { endpoint: "account" } : undefined;
  const disable = DISABLE_PATH.exec(pathname);
  if (disable?.[1] && method === "POST") return { endpoint: "disableKey", keyId: decode(disable[1]) };
  const key = KEY_PATH.exec(pathname);
  if (key?.[1] && method === "DELETE") return { endpoint: "removeKey", keyId: decode(key[1]) };
  return undefined;
}

function requireAdmin(caller: StoredKey): void {
  if (!caller.admin) {
    throw new SimulatorError(403, "ADMIN_KEY_REQUIRED", `key ${caller.keyId} is not an admin key`);
  }
}

/** Runs an authenticated call. Admin endpoints act on the caller's own account only. */
export function handleRoute(route: Route, caller: StoredKey, body: string, store: AccountStore): RouteResult {
  switch (route.endpoint) {
    case "account":
      return {
        status: 200,
        body: { account: caller.account, keyId: caller.keyId, permissions: [...caller.permissions] },
      };
    case "createKey": {
      requireAdmin(caller);
      const input = parseJsonObject(body);
      const key = store.createKey(caller.account, { label: input.label, permissions: input.permissions });
      return {
        status: 201,
        body: {
          keyId: key.keyId,
          secret: key.secret,
          label: key.label,
          permissions: [...key.permissions],
          status: "active",
          createdAt: key.createdAt,
        },
      };
    }
    case "listKeys":
      requireAdmin(caller);
      return { status: 200, body: store.listKeys(caller.account) };
    case "disableKey":
      requireAdmin(caller);
      store.disableKey(caller.account, route.keyId ?? "");
      return { status: 200, body: { keyId: route.keyId, status: "disabled" } };
    case "removeKey":
      requireAdmin(caller);
      store.removeKey(caller.account, route.keyId ?? "");
      return { status: 200, body: { keyId: route.keyId, status: "removed" } };
    case "enableKey":
    case "editKey":
      // Endpoint names of the real-protocol simulators: keyshift's own protocol has no such route.
      throw new SimulatorError(404, "ROUTE_NOT_FOUND", `no route for ${route.endpoint}`);
  }
}
