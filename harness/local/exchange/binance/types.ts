import type { ExchangeEndpoint, FaultSpec } from "../faults";
import type { RequestLogEntry } from "../request-log";

/** What the simulator hands an operator for an account: the admin secret's fields. */
export interface BinanceAccountCredential {
  account: string;
  /** The sub-account whose keys keyshift rotates. */
  subAccountEmail: string;
  /** The master account's key and secret. */
  apiKey: string;
  apiSecret: string;
}

/** The five permission flags of a sub-account key (absent = false). */
export type SimFlags = Partial<
  Record<
    "canTrade" | "canMarginLoanRepay" | "canFuturesTrade" | "canUniversalTransfer" | "canVanillaOptions",
    boolean
  >
>;

export interface BinanceSimKeyView {
  keyId: string;
  label: string;
  flags: Required<SimFlags>;
  ips: string[];
  status: "active" | "removed";
  createdAt: string;
  removedAt?: string;
}

export interface SeedKeyInput {
  label: string;
  flags: SimFlags;
  /** Trusted IPs; none means unrestricted. */
  ips?: string[];
}

/** The Binance simulator's test surface (the same shape as `ExchangeSimulator` where it fits). */
export interface BinanceSimulator {
  url: string;
  /** A sub-account named `account` under a new master, with the master's key (Spot & Margin Trading on). */
  createAccount(account: string, opts?: { maxKeys?: number; masterIps?: string[] }): BinanceAccountCredential;
  /** Another key of `account`'s master, e.g. without trading or bound to IPs. */
  addMasterKey(
    account: string,
    opts: { canTrade?: boolean; ips?: string[] },
  ): { apiKey: string; apiSecret: string };
  /** A sub-account key made out of band (the website), with its flags and IP restriction. */
  seedKey(account: string, input: SeedKeyInput): { keyId: string; secret: string };
  setFault(endpoint: ExchangeEndpoint, spec: FaultSpec): void;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  /** Every key of the account's sub-account, removed ones included. */
  keys(account: string): BinanceSimKeyView[];
  /** The simulator's clock, in ms. */
  now(): number;
  close(): Promise<void>;
}
