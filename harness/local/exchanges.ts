import { normalizeFlags } from "../../src/adapters/exchange/binance/scope";
import { normalizeScope } from "../../src/adapters/exchange/bybit/scope";
import type { BinanceSimulator } from "./exchange/binance";
import { tradingCall as binanceTrade, startBinanceSimulator } from "./exchange/binance";
import type { BybitSimulator } from "./exchange/bybit";
import { tradingCall as bybitTrade, startBybitSimulator } from "./exchange/bybit";
import { CONSUMER_HOST_IP, EGRESS_IP, fetchFrom } from "./exchange/caller-address";
import type { DeribitSimulator } from "./exchange/deribit";
import { tradingCall as deribitTrade, startDeribitSimulator } from "./exchange/deribit";
import { type GateSimulator, startGateSimulator } from "./exchange/gate";
import { type ExchangeSimulator, KEYSHIFT_SIM, signedFetch } from "./exchange/keyshift-sim";
import { type KrakenSimulator, startKrakenSimulator } from "./exchange/kraken";
import { type OkxSimulator, tradingCall as okxTrade, startOkxSimulator } from "./exchange/okx";
import type { RequestLogEntry } from "./exchange/request-log";

/** The exchanges the local stack simulates: six real protocols (Kraken: manual keys) and keyshift's own test protocol. */
export const LOCAL_EXCHANGES = [
  "deribit",
  "bybit",
  "okx",
  "binance",
  "kraken",
  "gate",
  "keyshift-sim",
] as const;
export type LocalExchangeName = (typeof LOCAL_EXCHANGES)[number];

export function isLocalExchange(value: unknown): value is LocalExchangeName {
  return typeof value === "string" && (LOCAL_EXCHANGES as readonly string[]).includes(value);
}

/**
 * How the operator binds keys to addresses in the local stack, as a firm does: the admin key to
 * keyshift's egress, a trading key to the egress (keyshift verifies its successor from there) and
 * the trading hosts. Exchanges without allow-lists (keyshift's test protocol) ignore it.
 */
export interface LocalIpBinding {
  admin: string[];
  trading: string[];
}
export const BOUND_TO_EGRESS: LocalIpBinding = { admin: [EGRESS_IP], trading: [EGRESS_IP, CONSUMER_HOST_IP] };
export const UNBOUND: LocalIpBinding = { admin: [], trading: [] };

/** A trading key as the operator made it by hand, with its scope as keyshift normalizes it. */
export interface SeededTradingKey {
  keyId: string;
  secret: string;
  /** The key's own passphrase, where the exchange gives keys one (OKX). */
  passphrase?: string;
  permissions: string[];
  /** The key's IP binding, when it has one (the secret records it; the next key copies it). */
  ipAllowlist?: string[];
}

/** A key as a trading service holds it: what its secret's JSON carries. */
export interface TradingCredential {
  keyId: string;
  secret: string;
  passphrase?: string;
}

/** Just the parts of a stored key that authenticate (nothing else of the secret's JSON travels). */
export function tradingCredential(key: TradingCredential): TradingCredential {
  return {
    keyId: key.keyId,
    secret: key.secret,
    ...(typeof key.passphrase === "string" ? { passphrase: key.passphrase } : {}),
  };
}

/**
 * One simulated exchange behind one interface for the local stack: what an operator does by hand
 * (an account with its admin key, a first trading key) and what a trading service does (a read
 * call with its key), whatever the wire protocol.
 */
export interface LocalExchange {
  name: LocalExchangeName;
  url: string;
  /** Creates the account and returns the admin secret's JSON, in that exchange's shape; `adminIps` binds the admin key. */
  provisionAccount(account: string, adminIps?: string[]): Record<string, unknown>;
  /** The first trading key, bound to `ips` (default unbound). */
  seedTradingKey(account: string, ips?: string[]): SeededTradingKey;
  /** The read call a trading service makes with its key, from `from` (default a consumer host): did it authenticate? */
  trade(key: TradingCredential, from?: string): Promise<boolean>;
  /** Every trading key of the account, removed ones included, with its IP allow-list where the exchange has one. */
  keys(
    account: string,
  ): Array<{ keyId: string; status: "active" | "disabled" | "removed"; ipAllowlist?: string[] }>;
  requestLog(): RequestLogEntry[];
  /** Makes key removal fail at `rate` (the `--revoke-failure-rate` knob). */
  failRemovals(rate: number): void;
  /**
   * While `on`, every disable and removal fails (HTTP 5xx) and the key lives on (`--attacker`);
   * off: they work again. Absent where the simulator cannot (the exchange is then not offered).
   */
  refuseRevocations?(on: boolean): void;
  /** Whether the exchange reports each key's last use in its key listing (the retired-key evidence). */
  reportsLastUse?: boolean;
}

const DERIBIT_SCOPE = ["account:read", "trade:read_write", "wallet:none"];
const BYBIT_SCOPE = { ContractTrade: ["Order", "Position"], Spot: ["SpotTrade"] };

export function deribitLocal(sim: DeribitSimulator): LocalExchange {
  return {
    name: "deribit",
    url: sim.url,
    provisionAccount(account, adminIps = []) {
      const admin = sim.createAccount(account, { adminIpAllowlist: adminIps });
      return {
        exchange: "deribit",
        endpoint: sim.url,
        clientId: admin.adminKeyId,
        clientSecret: admin.adminSecret,
        accountId: admin.accountId,
      };
    },
    seedTradingKey(account, ips = []) {
      const key = sim.seedKey(account, {
        label: "trading_main",
        permissions: DERIBIT_SCOPE,
        ipAllowlist: ips,
      });
      return { ...key, permissions: [...DERIBIT_SCOPE].sort() };
    },
    trade: async (key, from = CONSUMER_HOST_IP) =>
      (await deribitTrade(sim.url, key, { timeoutMs: 2000, fetchImpl: fetchFrom(from) })).ok,
    keys: (account) => sim.keys(account),
    requestLog: () => sim.requestLog(),
    failRemovals: (rate) => sim.setFault("removeKey", { errorRate: rate, kind: "5xx" }),
  };
}

/** The firm's read-only key of a sub-account for the hourly pull (issue 20): never a trading key. */
const OBSERVER_LABEL = "firm_observer";

export function bybitLocal(sim: BybitSimulator): LocalExchange {
  const observers = new Set<string>();
  return {
    name: "bybit",
    url: sim.url,
    provisionAccount(account, adminIps = []) {
      const admin = sim.createAccount(account, { masterIps: adminIps });
      // Bound like the master: only keyshift's hourly pull uses it.
      const observer = sim.seedKey(account, {
        label: OBSERVER_LABEL,
        permissions: { Spot: ["SpotTrade"] },
        readOnly: true,
        ips: adminIps,
      });
      observers.add(observer.keyId);
      return {
        exchange: "bybit",
        endpoint: sim.url,
        apiKey: admin.apiKey,
        apiSecret: admin.apiSecret,
        subuid: admin.subuid,
        observer: { apiKey: observer.keyId, apiSecret: observer.secret },
      };
    },
    seedTradingKey(account, ips = []) {
      const key = sim.seedKey(account, { label: "trading_main", permissions: BYBIT_SCOPE, ips });
      // What the operator records is what Bybit shows, groups it assigns itself (Derivatives) included.
      const shown = sim.keys(account).find((k) => k.keyId === key.keyId);
      return {
        ...key,
        permissions: normalizeScope(shown?.readOnly ?? false, shown?.permissions ?? BYBIT_SCOPE),
      };
    },
    trade: async (key, from = CONSUMER_HOST_IP) =>
      (await bybitTrade(sim.url, key, { timeoutMs: 2000, fetchImpl: fetchFrom(from) })).ok,
    // Bybit has no disable: an expired key is as dead as a disabled one. The observer is the firm's.
    keys: (account) =>
      sim
        .keys(account)
        .filter((k) => !observers.has(k.keyId))
        .map((k) => ({
          keyId: k.keyId,
          status: k.status === "expired" ? "disabled" : k.status,
          ipAllowlist: k.ips,
        })),
    requestLog: () => sim.requestLog(),
    failRemovals: (rate) => sim.setFault("removeKey", { errorRate: rate, kind: "5xx" }),
  };
}

const BINANCE_FLAGS = { canTrade: true, canFuturesTrade: true };

/** Binance through its simulator: the master key bound to `adminIps`, the trading key to `ips`. */
export function binanceLocal(sim: BinanceSimulator): LocalExchange {
  return {
    name: "binance",
    url: sim.url,
    provisionAccount(account, adminIps = []) {
      const admin = sim.createAccount(account, { masterIps: adminIps });
      return {
        exchange: "binance",
        endpoint: sim.url,
        apiKey: admin.apiKey,
        apiSecret: admin.apiSecret,
        subAccountEmail: admin.subAccountEmail,
      };
    },
    seedTradingKey(account, ips = []) {
      const key = sim.seedKey(account, { label: "trading_main", flags: BINANCE_FLAGS, ips });
      return {
        ...key,
        permissions: normalizeFlags(BINANCE_FLAGS),
        ...(ips.length > 0 ? { ipAllowlist: [...ips] } : {}),
      };
    },
    trade: async (key, from = CONSUMER_HOST_IP) =>
      (await binanceTrade(sim.url, key, { timeoutMs: 2000, fetchImpl: fetchFrom(from) })).ok,
    keys: (account) =>
      sim.keys(account).map((k) => ({ keyId: k.keyId, status: k.status, ipAllowlist: k.ips })),
    requestLog: () => sim.requestLog(),
    failRemovals: (rate) => sim.setFault("removeKey", { errorRate: rate, kind: "5xx" }),
  };
}

/**
 * OKX through its simulator. The master key is bound to `adminIps`, or to keyshift's egress when
 * none are given: OKX refuses key management by an unbound master key (50035), so no firm runs
 * OKX unbound. The trading key is bound to `ips`.
 */
export function okxLocal(sim: OkxSimulator): LocalExchange {
  const observers = new Set<string>();
  return {
    name: "okx",
    url: sim.url,
    provisionAccount(account, adminIps = []) {
      const masterIps = adminIps.length > 0 ? adminIps : [EGRESS_IP];
      const admin = sim.createAccount(account, { masterIps });
      const observer = sim.seedKey(account, { label: OBSERVER_LABEL, perm: ["read_only"], ips: masterIps });
      observers.add(observer.keyId);
      return {
        exchange: "okx",
        endpoint: sim.url,
        apiKey: admin.apiKey,
        secretKey: admin.secretKey,
        passphrase: admin.passphrase,
        subAcct: admin.subAcct,
        observer: { apiKey: observer.keyId, secretKey: observer.secret, passphrase: observer.passphrase },
      };
    },
    seedTradingKey(account, ips = []) {
      const key = sim.seedKey(account, { label: "trading_main", perm: ["read_only", "trade"], ips });
      return {
        ...key,
        permissions: ["read_only", "trade"],
        ...(ips.length > 0 ? { ipAllowlist: [...ips].sort() } : {}),
      };
    },
    // A key without its passphrase cannot authenticate on OKX: the call is refused, as OKX would.
    trade: async (key, from = CONSUMER_HOST_IP) =>
      (
        await okxTrade(
          sim.url,
          { ...key, passphrase: key.passphrase ?? "" },
          { timeoutMs: 2000, fetchImpl: fetchFrom(from) },
        )
      ).ok,
    keys: (account) =>
      sim
        .keys(account)
        .filter((k) => !observers.has(k.keyId))
        .map((k) => ({ keyId: k.keyId, status: k.status, ipAllowlist: k.ips })),
    requestLog: () => sim.requestLog(),
    failRemovals: (rate) => sim.setFault("removeKey", { errorRate: rate, kind: "5xx" }),
  };
}

export function keyshiftSimLocal(sim: ExchangeSimulator): LocalExchange {
  return {
    name: "keyshift-sim",
    url: sim.url,
    provisionAccount(account) {
      const admin = sim.createAccount(account);
      return {
        exchange: KEYSHIFT_SIM,
        endpoint: sim.url,
        keyId: admin.adminKeyId,
        secret: admin.adminSecret,
      };
    },
    seedTradingKey(account) {
      const permissions = ["read", "trade"];
      return { ...sim.seedKey(account, { label: "initial", permissions }), permissions };
    },
    async trade(key, from = CONSUMER_HOST_IP) {
      const res = await signedFetch({ endpoint: sim.url, ...key }, "GET", "/v1/account", undefined, {
        timeoutMs: 2000,
        fetchImpl: fetchFrom(from),
      });
      await res.arrayBuffer();
      return res.ok;
    },
    keys: (account) => sim.keys(account),
    requestLog: () => sim.requestLog(),
    failRemovals: (rate) => sim.setFault("removeKey", { errorRate: rate, kind: "5xx" }),
    refuseRevocations(on) {
      for (const endpoint of ["disableKey", "removeKey"] as const)
        sim.setFault(endpoint, { errorRate: on ? 1 : 0, kind: "5xx" });
    },
    reportsLastUse: true,
  };
}

/** Starts the real-protocol simulators (the test protocol's is started by the stack itself). */
export async function startRealExchangeSimulators(seed: number): Promise<{
  deribit: DeribitSimulator;
  bybit: BybitSimulator;
  okx: OkxSimulator;
  binance: BinanceSimulator;
  kraken: KrakenSimulator;
  gate: GateSimulator;
}> {
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const deribit = await startDeribitSimulator({ seed });
    started.push(deribit);
    const bybit = await startBybitSimulator({ seed });
    started.push(bybit);
    const okx = await startOkxSimulator({ seed });
    started.push(okx);
    const binance = await startBinanceSimulator({ seed });
    started.push(binance);
    const gate = await startGateSimulator({ seed });
    started.push(gate);
    return { deribit, bybit, okx, binance, gate, kraken: await startKrakenSimulator({ seed }) };
  } catch (err) {
    for (const sim of started) await sim.close();
    throw err;
  }
}
