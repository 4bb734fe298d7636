import type { ExchangeEndpoint, FaultSpec } from "../faults";
import type { RequestLogEntry } from "../request-log";

/** What the simulator hands an operator for an account: the admin secret's fields. */
export interface GateAccountCredential {
  account: string;
  /** The sub-account whose keys keyshift rotates (Gate addresses sub-accounts by `user_id`). */
  userId: string;
  mainUid: string;
  /** The main account's key and secret. */
  apiKey: string;
  apiSecret: string;
}

export interface GateSimKeyView {
  keyId: string;
  name: string;
  /** `{name, read_only}` as Gate lists them. */
  perms: Array<{ name: string; read_only: boolean }>;
  ips: string[];
  status: "active" | "removed";
  createdAt: string;
  /** When the key last authenticated, if ever. */
  lastAccess?: string;
  removedAt?: string;
}

export interface GateSeedKeyInput {
  label: string;
  perms: Array<{ name: string; read_only: boolean }>;
  /** Bound IPs; none means unbound. */
  ips?: string[];
}

/** The Gate APIv4 simulator's test surface (the same shape as the other simulators where it fits). */
export interface GateSimulator {
  url: string;
  /**
   * A sub-account named after `account` under a new main account, whose key is bound to `mainIps`
   * (default `["127.0.0.1"]`: a test's own client; `[]` makes it unbound).
   */
  createAccount(account: string, opts?: { maxKeys?: number; mainIps?: string[] }): GateAccountCredential;
  /** Another key of `account`'s main account (read-only, or bound elsewhere). */
  addMainKey(
    account: string,
    opts: { readOnly?: boolean; ips?: string[] },
  ): { apiKey: string; apiSecret: string };
  /** A sub-account key made out of band (the website), with its scope and IP binding. */
  seedKey(account: string, input: GateSeedKeyInput): { keyId: string; secret: string };
  /** Gate refuses the deletion of `keyId` the next `attempts` times (HTTP 500 SERVER_ERROR). */
  refuseRemoval(keyId: string, attempts: number): void;
  setFault(endpoint: ExchangeEndpoint, spec: FaultSpec): void;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  /** Every key of the account's sub-account, removed ones included. */
  keys(account: string): GateSimKeyView[];
  /** The simulator's clock, in ms. */
  now(): number;
  close(): Promise<void>;
}
