import type { ExchangeEndpoint } from "../faults";
import { ERR, KrakenSimError } from "./errors";
import type { SimKey } from "./store";

/** The private methods keyshift calls, both read-only; they share the `account` fault endpoint. */
const ROUTES: Record<
  string,
  { permission?: string; endpoint: ExchangeEndpoint; run: (key: SimKey) => unknown }
> = {
  "/0/private/Balance": {
    permission: "query-funds",
    endpoint: "account",
    run: () => ({ ZUSD: "1000.0000", XXBT: "0.0000000000" }),
  },
  "/0/private/GetApiKeyInfo": {
    endpoint: "account",
    run: (key) => ({
      apiKeyName: key.name,
      apiKey: key.keyId,
      nonce: String(key.highestNonce),
      nonceWindow: key.nonceWindow,
      permissions: [...key.permissions],
      iban: "AA00 SIMU LATE DKRK",
      validUntil: String(key.validUntil),
      queryFrom: "0",
      queryTo: "0",
      createdTime: String(Math.floor(key.createdAt / 1000)),
      modifiedTime: String(Math.floor(key.modifiedAt / 1000)),
      ipAllowlist: [...key.ipAllowlist],
      lastUsed: String(Math.floor(key.lastUsed / 1000)),
    }),
  },
};

export function matchRoute(method: string, pathname: string) {
  const route = ROUTES[pathname];
  return route && method === "POST" ? route : undefined;
}

export type KrakenRoute = NonNullable<ReturnType<typeof matchRoute>>;

/** Runs a route for an authenticated key: "Permission denied" when the key lacks what it needs. */
export function runRoute(route: KrakenRoute, key: SimKey): unknown {
  if (route.permission && !key.permissions.has(route.permission))
    throw new KrakenSimError(ERR.permissionDenied);
  return route.run(key);
}

export const unknownMethod = () => new KrakenSimError(ERR.unknownMethod, 404);
