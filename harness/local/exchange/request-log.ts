import type { ExchangeEndpoint } from "./faults";

export type LoggedKeyState = "active" | "disabled" | "removed" | "unknown" | "admin";

export interface RequestLogEntry {
  seq: number;
  at: string;
  endpoint: ExchangeEndpoint | "unknown";
  method: string;
  path: string;
  account?: string;
  /** The key id the request claimed to be signed with (`x-ks-key`, `X-BAPI-API-KEY`, …), when it looks like a key id. */
  keyId?: string;
  /** That key's state when the request arrived, so a test can prove no call used a removed key. */
  keyState?: LoggedKeyState;
  /** HTTP status answered; 0 when no response was sent (timeout fault, client gone). */
  status: number;
  fault?: string;
  /** The caller's address (keyshift's egress, a trading host, …). */
  callerIp?: string;
}

/** What the log needs to know about a key: every simulator's store provides it. */
export interface KeyLookup {
  findKey(
    keyId: string,
  ):
    | { account: string; keyId: string; admin: boolean; status: "active" | "disabled" | "removed" }
    | undefined;
}

/**
 * Every exchange call (not the `/_sim` control plane), recorded on arrival and completed when
 * answered. Unbounded on purpose: the simulator lives as long as one test run or local session,
 * and a truncated log could not prove the absence of a call.
 */
export class RequestLog {
  private readonly entries: RequestLogEntry[] = [];
  private seq = 0;

  /** `keyIdFormat`: what this exchange's key ids look like; anything else claimed is not logged (it may be a secret). */
  constructor(
    private readonly lookup: KeyLookup,
    private readonly keyIdFormat: RegExp = /^k_[0-9a-f]{16}$/,
  ) {}

  begin(input: {
    endpoint: ExchangeEndpoint | "unknown";
    method: string;
    path: string;
    keyId?: string;
    callerIp?: string;
  }): RequestLogEntry {
    const entry: RequestLogEntry = {
      seq: ++this.seq,
      at: new Date().toISOString(),
      endpoint: input.endpoint,
      method: input.method,
      path: input.path,
      status: 0,
      ...(input.callerIp ? { callerIp: input.callerIp } : {}),
    };
    if (input.keyId !== undefined) {
      const key = this.lookup.findKey(input.keyId);
      if (key) {
        entry.account = key.account;
        entry.keyId = key.keyId;
        entry.keyState = key.admin ? "admin" : key.status;
      } else {
        // A caller who put a secret in the key header must not find it in the log.
        if (this.keyIdFormat.test(input.keyId)) entry.keyId = input.keyId;
        entry.keyState = "unknown";
      }
    }
    this.entries.push(entry);
    return entry;
  }

  snapshot(): RequestLogEntry[] {
    return this.entries.map((entry) => ({ ...entry }));
  }
}
