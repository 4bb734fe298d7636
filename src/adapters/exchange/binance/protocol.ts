import type { ExchangeProtocol } from "../router";
import { BinanceExchange } from "./adapter";
import { type BinanceConfig, parseBinanceAdminSecret } from "./admin-secret";

/** Binance as the router speaks it: its admin secret, and the adapter around those credentials. */
export const binanceProtocol: ExchangeProtocol<BinanceConfig> = {
  parseAdminSecret: parseBinanceAdminSecret,
  create: (credentials, opts) =>
    new BinanceExchange({
      credentials,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
    }),
};
