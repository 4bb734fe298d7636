import type { ExchangeEndpoint, FaultSpec } from "../faults";
import type { RequestLogEntry } from "../request-log";

/** What a person fills in on Kraken's "Create API key" form (Settings → API). */
export interface CreateKeyInput {
  /** "Key name"; unique per account. */
  name: string;
  /** Kraken's permission names as GetApiKeyInfo lists them (`query-funds`, `modify-trades`, …). */
  permissions: string[];
  /** "IP whitelisting": addresses or CIDR blocks; none means callable from anywhere. */
  ipAllowlist?: string[];
  /** "Nonce window": how far below the highest nonce seen a nonce may still be (0: strictly increasing). */
  nonceWindow?: number;
  /** "Key expiration", UNIX seconds; none means it never expires. */
  validUntil?: number;
}

/** What the UI shows once after "Generate key": the API key and its private key. */
export interface CreatedKey {
  keyId: string;
  secret: string;
}

export interface KrakenSimKeyView {
  keyId: string;
  name: string;
  permissions: string[];
  ipAllowlist: string[];
  nonceWindow: number;
  status: "active" | "expired" | "removed";
  createdAt: string;
  validUntil?: number;
  removedAt?: string;
}

/** The Kraken simulator's test surface. The harness plays the person at the web UI ("scripted operator"). */
export interface KrakenSimulator {
  url: string;
  createAccount(account: string): { account: string };
  /** A person creates a key in the web UI. */
  createKey(account: string, input: CreateKeyInput): CreatedKey;
  /** A person deletes a key in the web UI; unknown or already deleted keys throw. */
  deleteKey(account: string, keyId: string): void;
  keys(account: string): KrakenSimKeyView[];
  setFault(endpoint: ExchangeEndpoint, spec: FaultSpec): void;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  now(): number;
  close(): Promise<void>;
}
