import { BybitExchange, parseBybitAdminSecret } from "./bybit";
import { DeribitExchange, parseDeribitAdminSecret } from "./deribit";
import type { ExchangeProtocol } from "./router";

/**
 * The real exchanges keyshift speaks, by the `"exchange"` name an admin secret carries
 * (keyshift's own test protocol, `keyshift-sim`, is built into the router). `docs/exchanges.md`
 * describes each admin secret's shape.
 */
export const EXCHANGE_PROTOCOLS = {
  deribit: {
    parseAdminSecret: parseDeribitAdminSecret,
    create: (credentials, opts) =>
      new DeribitExchange({
        credentials,
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
      }),
  } satisfies ExchangeProtocol<ReturnType<typeof parseDeribitAdminSecret>>,
  bybit: {
    parseAdminSecret: parseBybitAdminSecret,
    create: (credentials, opts) =>
      new BybitExchange({
        credentials,
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
      }),
  } satisfies ExchangeProtocol<ReturnType<typeof parseBybitAdminSecret>>,
} as unknown as Record<string, ExchangeProtocol<never>>;
