import type { ExchangeEndpoint, FaultSpec } from "../faults";
import type { RequestLogEntry } from "../request-log";
import type { DeribitActivityBook } from "./activity-log";

/** A trading key as a test sees it on the simulated Deribit (never the admin key). */
export interface DeribitSimulatedKey {
  /** The `client_id`: keyshift's key id. */
  keyId: string;
  /** Deribit's numeric key id. */
  id: number;
  label: string;
  /** Sorted `max_scope` tokens. */
  permissions: string[];
  ipAllowlist: string[];
  status: "active" | "disabled" | "removed";
  createdAt: string;
  removedAt?: string;
}

export interface DeribitAccountOptions {
  /** API keys the account may hold, the admin key and disabled keys included; default 8. */
  maxKeys?: number;
  /** The admin key's `max_scope` tokens; default account, trade and wallet read_write. */
  adminScope?: string[];
  /** Base32 2FA secret: key management then needs security-key confirmation. */
  totpSeed?: string;
  /** The admin key's `ip_whitelist` (set on the website); default none, i.e. any caller. */
  adminIpAllowlist?: string[];
}

/**
 * A simulated Deribit over real HTTP: JSON-RPC 2.0 at `/api/v2/<method>`, `deri-hmac-sha256`
 * signatures (60 s timestamps, single-use nonces), the 8-key limit, scopes, disable/enable, the
 * security-key challenge, fault injection and a request log. Same test surface as the invented
 * `ExchangeSimulator` where it makes sense.
 */
export interface DeribitSimulator {
  url: string;
  /** Creates an account with its admin key (made by hand on the website, like the real first key). */
  createAccount(
    account: string,
    opts?: DeribitAccountOptions,
  ): { adminKeyId: string; adminSecret: string; accountId: number };
  /** A trading key made by hand on the website. */
  seedKey(
    account: string,
    input: { label: string; permissions: string[]; ipAllowlist?: string[] },
  ): { keyId: string; secret: string };
  /** Turns the account's security-key requirement on (with its TOTP seed) or off (`undefined`). */
  requireSecurityKey(account: string, totpSeed: string | undefined): void;
  setFault(endpoint: ExchangeEndpoint, spec: FaultSpec): void;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  /** The accounts' access and transaction logs (logins, fills), and `record` for other rows. */
  activity: DeribitActivityBook;
  /** Every trading key of the account, removed ones included, in creation order. */
  keys(account: string): DeribitSimulatedKey[];
  close(): Promise<void>;
}

export interface DeribitSimulatorOptions {
  port?: number;
  host?: string;
  /** Seed of the fault PRNGs; default 1. */
  seed?: number;
  /** The simulator's clock in ms since the epoch (timestamps, TOTP windows, challenges); default `Date.now`. */
  now?: () => number;
  /** How long a `timeout` fault holds a request before dropping the connection; default 10 s. */
  timeoutMs?: number;
}
