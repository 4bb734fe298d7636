import type { ExchangeEndpoint, FaultSpec } from "../faults";
import type { RequestLogEntry } from "../request-log";

/** What the simulator hands an operator for an account: the admin secret's fields. */
export interface BybitAccountCredential {
  account: string;
  /** The sub-account whose keys keyshift rotates. */
  subuid: string;
  masterUid: string;
  /** The master account's key and secret. */
  apiKey: string;
  apiSecret: string;
}

export interface BybitSimKeyView {
  keyId: string;
  label: string;
  permissions: Record<string, string[]>;
  readOnly: boolean;
  ips: string[];
  status: "active" | "expired" | "removed";
  createdAt: string;
  expiresAt?: string;
  removedAt?: string;
}

export interface SeedKeyInput {
  label: string;
  /** Bybit's permission groups, as on create (`{"ContractTrade":["Order"]}`). */
  permissions: Record<string, string[]>;
  readOnly?: boolean;
  /** Bound IPs; none means unbound (and a 90-day lifetime). */
  ips?: string[];
}

/** The Bybit v5 simulator's test surface (the same shape as `ExchangeSimulator` where it fits). */
export interface BybitSimulator {
  url: string;
  /**
   * A sub-account named `account` under a new master (or under `master`, another account's), with
   * the master's key: what the admin secret holds.
   */
  createAccount(
    account: string,
    opts?: {
      maxKeys?: number;
      master?: string;
      uta?: boolean;
      /** A new master's key bound to these IPs (set on the website); default unbound. */
      masterIps?: string[];
    },
  ): BybitAccountCredential;
  /** Another key of `account`'s master, e.g. read-only or without transfer permissions. */
  addMasterKey(
    account: string,
    opts: { readOnly?: boolean; wallet?: string[]; ips?: string[] },
  ): { apiKey: string; apiSecret: string };
  /** A sub-account key made out of band (the website), with its scope and IP binding. */
  seedKey(account: string, input: SeedKeyInput): { keyId: string; secret: string };
  setFault(endpoint: ExchangeEndpoint, spec: FaultSpec): void;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  /** Every key of the account's sub-account, removed ones included. */
  keys(account: string): BybitSimKeyView[];
  /** Rows the simulator cannot make by itself (issue 20): other execution types, transfers. */
  activity: {
    /** An execution of the account's sub-account (`execType` default `Trade`, `atMs` default now). */
    recordExecution(
      account: string,
      input: { category: string; execType?: string; atMs?: number; orderId?: string },
    ): void;
    /** A universal transfer out of (or into) the sub-account; the other side defaults to its master. */
    recordTransfer(
      account: string,
      input: { direction: "out" | "in"; to?: string; from?: string; atMs?: number },
    ): void;
  };
  /** The simulator's clock, in ms. */
  now(): number;
  close(): Promise<void>;
}
