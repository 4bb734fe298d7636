import type { ExchangeEndpoint, FaultSpec } from "../faults";
import type { RequestLogEntry } from "../request-log";

export interface SimulatedKey {
  keyId: string;
  label: string;
  permissions: string[];
  status: "active" | "disabled" | "removed";
  createdAt: string;
  removedAt?: string;
}

/**
 * A simulated exchange key-management API over real HTTP: HMAC-signed requests, an active-key
 * limit per account, deterministic fault injection and a request log.
 */
export interface ExchangeSimulator {
  url: string;
  createAccount(
    account: string,
    opts?: { maxActiveKeys?: number },
  ): { adminKeyId: string; adminSecret: string };
  /** Test/bootstrap helper: create a trading key directly (like a human on the exchange website). */
  seedKey(
    account: string,
    input: { label: string; permissions: string[] },
  ): { keyId: string; secret: string };
  setFault(endpoint: ExchangeEndpoint, spec: FaultSpec): void;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  keys(account: string): SimulatedKey[];
  close(): Promise<void>;
}
