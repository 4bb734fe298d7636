import type { ExchangeProtocol } from "./router";

/**
 * The real exchanges keyshift speaks, by the `"exchange"` name an admin secret carries
 * (keyshift's own test protocol, `keyshift-sim`, is built into the router).
 */
export const EXCHANGE_PROTOCOLS: Record<string, ExchangeProtocol<never>> = {};
