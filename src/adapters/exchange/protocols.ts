import { binanceProtocol } from "./binance";
import { type BybitConfig, BybitExchange, parseBybitAdminSecret } from "./bybit";
import { type DeribitAdminConfig, DeribitExchange, parseDeribitAdminSecret } from "./deribit";
import { type GateConfig, GateExchange, parseGateAdminSecret } from "./gate";
import { type KrakenAccountConfig, parseKrakenAccountConfig } from "./kraken";
import { KrakenExchange } from "./kraken/exchange";
import { type OkxConfig, OkxExchange, parseOkxAdminSecret } from "./okx";
import type { ExchangeProtocol, ExchangeProtocols } from "./router";

const deribit: ExchangeProtocol<DeribitAdminConfig> = {
  parseAdminSecret: parseDeribitAdminSecret,
  create: (credentials, opts) =>
    new DeribitExchange({
      credentials,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
    }),
};

const bybit: ExchangeProtocol<BybitConfig> = {
  parseAdminSecret: parseBybitAdminSecret,
  create: (credentials, opts) =>
    new BybitExchange({
      credentials,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
    }),
};

const okx: ExchangeProtocol<OkxConfig> = {
  parseAdminSecret: parseOkxAdminSecret,
  create: (credentials, opts) =>
    new OkxExchange({
      credentials,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
    }),
};

const gate: ExchangeProtocol<GateConfig> = {
  parseAdminSecret: parseGateAdminSecret,
  create: (credentials, opts) =>
    new GateExchange({
      credentials,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
    }),
};

/** Kraken: manual key management (a person makes and deletes keys; keyshift verifies and asks). */
const kraken: ExchangeProtocol<KrakenAccountConfig> = {
  parseAdminSecret: parseKrakenAccountConfig,
  create: (credentials, opts) =>
    new KrakenExchange({
      credentials,
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
    }),
};

/** The real exchanges keyshift speaks, by the `"exchange"` name an admin secret carries. */
export const REAL_EXCHANGES: readonly string[] = Object.freeze([
  "deribit",
  "bybit",
  "okx",
  "binance",
  "kraken",
  "gate",
]);

const registry = new Map<string, ExchangeProtocol<unknown>>([
  ["deribit", deribit],
  ["bybit", bybit],
  ["okx", okx],
  ["binance", binanceProtocol],
  ["kraken", kraken],
  ["gate", gate],
]);

/**
 * What the composition root's router speaks: the real exchanges, and nothing else unless a harness
 * registered a protocol of its own in this process (`registerExchangeProtocol`). `docs/exchanges.md`
 * describes each admin secret's shape.
 */
export const EXCHANGE_PROTOCOLS: ExchangeProtocols = registry;

/**
 * For a harness only: adds its own protocol (the local stack's `keyshift-sim`) to what the
 * composition root's router speaks, so the real handlers it runs in its own process can reach its
 * simulator. Nothing that ships calls this; a real exchange's protocol cannot be replaced.
 */
export function registerExchangeProtocol<Config>(name: string, protocol: ExchangeProtocol<Config>): void {
  if (REAL_EXCHANGES.includes(name)) {
    throw new Error(`exchange protocol ${name} is a real exchange's and cannot be replaced`);
  }
  registry.set(name, protocol);
}
