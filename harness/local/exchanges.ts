import { normalizeFlags } from "../../src/adapters/exchange/binance/scope";
import { normalizeScope } from "../../src/adapters/exchange/bybit/scope";
import type { BinanceSimulator } from "./exchange/binance";
import { tradingCall as binanceTrade, startBinanceSimulator } from "./exchange/binance";
import type { BybitSimulator } from "./exchange/bybit";
import { tradingCall as bybitTrade, startBybitSimulator } from "./exchange/bybit";
import { CONSUMER_HOST_IP, EGRESS_IP, fetchFrom } from "./exchange/caller-address";
import type { DeribitSimulator } from "./exchange/deribit";
import { tradingCall as deribitTrade, startDeribitSimulator } from "./exchange/deribit";
import { type ExchangeSimulator, KEYSHIFT_SIM, signedFetch } from "./exchange/keyshift-sim";
import { type OkxSimulator, tradingCall as okxTrade, startOkxSimulator } from "./exchange/okx";
import type { RequestLogEntry } from "./exchange/request-log";

/** The exchanges the local stack simulates: four real protocols and keyshift's own test protocol. */
export const LOCAL_EXCHANGES = ["deribit", "bybit", "okx", "binance", "keyshift-sim"] as const;
export type LocalExchangeName = (typeof LOCAL_EXCHANGES)[number];

export function isLocalExchange(value: unknown): value is LocalExchangeName {
  return typeof value === "string" && (LOCAL_EXCHANGES as readonly string[]).includes(value);
}

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
  /** Creates the account and returns the admin secret's JSON, in that exchange's shape. */
  provisionAccount(account: string): Record<string, unknown>;
  seedTradingKey(account: string): SeededTradingKey;
  /** The read call a trading service makes with its key: did it authenticate? */
  trade(key: TradingCredential): Promise<boolean>;
  /** Every trading key of the account, removed ones included. */
  keys(account: string): Array<{ keyId: string; status: "active" | "disabled" | "removed" }>;
  requestLog(): RequestLogEntry[];
  /** Makes key removal fail at `rate` (the `--revoke-failure-rate` knob). */
  failRemovals(rate: number): void;
}

const DERIBIT_SCOPE = ["account:read", "trade:read_write", "wallet:none"];
const BYBIT_SCOPE = { ContractTrade: ["Order", "Position"], Spot: ["SpotTrade"] };

export function deribitLocal(sim: DeribitSimulator): LocalExchange {
  return {
    name: "deribit",
    url: sim.url,
    provisionAccount(account) {
      const admin = sim.createAccount(account);
      return {
        exchange: "deribit",
        endpoint: sim.url,
        clientId: admin.adminKeyId,
        clientSecret: admin.adminSecret,
        accountId: admin.accountId,
      };
    },
    seedTradingKey(account) {
      const key = sim.seedKey(account, { label: "trading_main", permissions: DERIBIT_SCOPE });
      return { ...key, permissions: [...DERIBIT_SCOPE].sort() };
    },
    trade: async (key) => (await deribitTrade(sim.url, key, { timeoutMs: 2000 })).ok,
    keys: (account) => sim.keys(account),
    requestLog: () => sim.requestLog(),
    failRemovals: (rate) => sim.setFault("removeKey", { errorRate: rate, kind: "5xx" }),
  };
}

export function bybitLocal(sim: BybitSimulator): LocalExchange {
  return {
    name: "bybit",
    url: sim.url,
    provisionAccount(account) {
      const admin = sim.createAccount(account);
      return {
        exchange: "bybit",
        endpoint: sim.url,
        apiKey: admin.apiKey,
        apiSecret: admin.apiSecret,
        subuid: admin.subuid,
      };
    },
    seedTradingKey(account) {
      const key = sim.seedKey(account, { label: "trading_main", permissions: BYBIT_SCOPE });
      // What the operator records is what Bybit shows, groups it assigns itself (Derivatives) included.
      const shown = sim.keys(account).find((k) => k.keyId === key.keyId);
      return {
        ...key,
        permissions: normalizeScope(shown?.readOnly ?? false, shown?.permissions ?? BYBIT_SCOPE),
      };
    },
    trade: async (key) => (await bybitTrade(sim.url, key, { timeoutMs: 2000 })).ok,
    // Bybit has no disable: an expired key is as dead as a disabled one.
    keys: (account) =>
      sim
        .keys(account)
        .map((k) => ({ keyId: k.keyId, status: k.status === "expired" ? "disabled" : k.status })),
    requestLog: () => sim.requestLog(),
    failRemovals: (rate) => sim.setFault("removeKey", { errorRate: rate, kind: "5xx" }),
  };
}

/** Where the local OKX keys are bound: the master to keyshift's egress, the trading key to the egress and a consumer host. */
export const OKX_LOCAL_BINDINGS = { master: [EGRESS_IP], trading: [EGRESS_IP, CONSUMER_HOST_IP] } as const;

const BINANCE_FLAGS = { canTrade: true, canFuturesTrade: true };

/**
 * Binance, IP-bound as a firm runs it: the trading key trusts keyshift's egress and the consumer
 * host, the master key only the egress. `alsoAllow` adds addresses to both (the stack passes the
 * address its handlers call from while they do not yet leave through `EGRESS_IP`).
 */
export function binanceLocal(sim: BinanceSimulator, opts: { alsoAllow?: string[] } = {}): LocalExchange {
  const extra = opts.alsoAllow ?? [];
  const fromHost = fetchFrom(CONSUMER_HOST_IP);
  return {
    name: "binance",
    url: sim.url,
    provisionAccount(account) {
      const admin = sim.createAccount(account, { masterIps: [EGRESS_IP, ...extra] });
      return {
        exchange: "binance",
        endpoint: sim.url,
        apiKey: admin.apiKey,
        apiSecret: admin.apiSecret,
        subAccountEmail: admin.subAccountEmail,
      };
    },
    seedTradingKey(account) {
      const ips = [EGRESS_IP, CONSUMER_HOST_IP, ...extra];
      const key = sim.seedKey(account, { label: "trading_main", flags: BINANCE_FLAGS, ips });
      return { ...key, permissions: normalizeFlags(BINANCE_FLAGS) };
    },
    // A trading service calls from its own host, one of the key's trusted IPs.
    trade: async (key) => (await binanceTrade(sim.url, key, { timeoutMs: 2000, fetchImpl: fromHost })).ok,
    keys: (account) => sim.keys(account).map((k) => ({ keyId: k.keyId, status: k.status })),
    requestLog: () => sim.requestLog(),
    failRemovals: (rate) => sim.setFault("removeKey", { errorRate: rate, kind: "5xx" }),
  };
}

/**
 * OKX through its simulator. `alsoAllow`: addresses added to both bindings while some caller of
 * the stack still leaves from another address than its role's (an interim for the merge with the
 * egress wiring: drop it once Lambdas call from `EGRESS_IP` and consumers from `CONSUMER_HOST_IP`).
 */
export function okxLocal(sim: OkxSimulator, opts: { alsoAllow?: readonly string[] } = {}): LocalExchange {
  const extra = opts.alsoAllow ?? [];
  const tradingIps = [...OKX_LOCAL_BINDINGS.trading, ...extra];
  return {
    name: "okx",
    url: sim.url,
    provisionAccount(account) {
      const admin = sim.createAccount(account, { masterIps: [...OKX_LOCAL_BINDINGS.master, ...extra] });
      return {
        exchange: "okx",
        endpoint: sim.url,
        apiKey: admin.apiKey,
        secretKey: admin.secretKey,
        passphrase: admin.passphrase,
        subAcct: admin.subAcct,
      };
    },
    seedTradingKey(account) {
      const key = sim.seedKey(account, {
        label: "trading_main",
        perm: ["read_only", "trade"],
        ips: tradingIps,
      });
      return { ...key, permissions: ["read_only", "trade"], ipAllowlist: [...tradingIps].sort() };
    },
    // A key without its passphrase cannot authenticate on OKX: the call is refused, as OKX would.
    trade: async (key) =>
      (await okxTrade(sim.url, { ...key, passphrase: key.passphrase ?? "" }, { timeoutMs: 2000 })).ok,
    keys: (account) => sim.keys(account).map((k) => ({ keyId: k.keyId, status: k.status })),
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
    async trade(key) {
      const res = await signedFetch({ endpoint: sim.url, ...key }, "GET", "/v1/account", undefined, {
        timeoutMs: 2000,
      });
      await res.arrayBuffer();
      return res.ok;
    },
    keys: (account) => sim.keys(account),
    requestLog: () => sim.requestLog(),
    failRemovals: (rate) => sim.setFault("removeKey", { errorRate: rate, kind: "5xx" }),
  };
}

/** Starts the real-protocol simulators (the test protocol's is started by the stack itself). */
export async function startRealExchangeSimulators(seed: number): Promise<{
  deribit: DeribitSimulator;
  bybit: BybitSimulator;
  okx: OkxSimulator;
  binance: BinanceSimulator;
}> {
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const deribit = await startDeribitSimulator({ seed });
    started.push(deribit);
    const bybit = await startBybitSimulator({ seed });
    started.push(bybit);
    const okx = await startOkxSimulator({ seed });
    started.push(okx);
    return { deribit, bybit, okx, binance: await startBinanceSimulator({ seed }) };
  } catch (err) {
    for (const sim of started) await sim.close();
    throw err;
  }
}
