import type { ExchangeEndpoint, FaultSpec } from "../faults";
import type { RequestLogEntry } from "../request-log";

/** What the simulator hands an operator for an account: the admin secret's fields. */
export interface OkxAccountCredential {
  account: string;
  /** The sub-account whose keys keyshift rotates (OKX names sub-accounts). */
  subAcct: string;
  masterUid: string;
  /** The master account's key, secret key and passphrase. */
  apiKey: string;
  secretKey: string;
  passphrase: string;
}

export interface OkxSimKeyView {
  keyId: string;
  label: string;
  /** `read_only`, `trade` as OKX lists them. */
  perm: string[];
  ips: string[];
  status: "active" | "removed";
  createdAt: string;
  removedAt?: string;
}

export interface OkxSeedKeyInput {
  label: string;
  /** OKX permission tokens (`["read_only","trade"]`); `read_only` is implied. */
  perm: string[];
  /** Bound IPs; none means unbound. */
  ips?: string[];
}

/** The OKX v5 simulator's test surface (the same shape as the other simulators where it fits). */
export interface OkxSimulator {
  url: string;
  /**
   * A sub-account named after `account` under a new master, with the master's key bound to
   * `masterIps` (default `["127.0.0.1"]`: a test's own client; `[]` makes an unbound master key,
   * which OKX refuses for key management).
   */
  createAccount(account: string, opts?: { maxKeys?: number; masterIps?: string[] }): OkxAccountCredential;
  /** Another key of `account`'s master (read-only, or bound elsewhere). */
  addMasterKey(
    account: string,
    opts: { perm?: string[]; ips?: string[] },
  ): { apiKey: string; secretKey: string; passphrase: string };
  /** A sub-account key made out of band (the website), with its scope and IP binding. */
  seedKey(account: string, input: OkxSeedKeyInput): { keyId: string; secret: string; passphrase: string };
  setFault(endpoint: ExchangeEndpoint, spec: FaultSpec): void;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  /** Every key of the account's sub-account, removed ones included. */
  keys(account: string): OkxSimKeyView[];
  /** Rows the simulator cannot make by itself (issue 20): other fill kinds, transfers. */
  activity: {
    /** A fill of the account's sub-account (`subType` default 1, `atMs` default now). */
    recordFill(
      account: string,
      input: { instType?: string; subType?: string; atMs?: number; ordId?: string },
    ): void;
    /** A transfer between the sub-account and its master. */
    recordTransfer(account: string, input: { direction: "out" | "in"; atMs?: number }): void;
  };
  /** The simulator's clock, in ms. */
  now(): number;
  close(): Promise<void>;
}
