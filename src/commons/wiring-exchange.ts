import { EXCHANGE_PROTOCOLS } from "../adapters/exchange/protocols";
import { ExchangeRouter } from "../adapters/exchange/router";
import { type Part, secretsManager } from "./wiring";

/**
 * The exchange port: the router over the real exchanges' protocols, reading admin credentials
 * through the shared Secrets Manager adapter. Its own module, so that a handler that never calls
 * an exchange does not load the exchange adapters (see ./wiring.ts).
 */
export const exchange: Part<ExchangeRouter> = (w) =>
  new ExchangeRouter(w.shared(secretsManager), w.config.KEYSHIFT_ADMIN_SECRET_PREFIX, EXCHANGE_PROTOCOLS, {
    timeoutMs: w.config.KEYSHIFT_EXCHANGE_TIMEOUT_MS,
  });
