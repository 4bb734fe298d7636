/** The audit trail (I8) and the alerts. */
import type { AuditHead } from "../audit/chain";
import type { Alert, AuditEntry, AuditEvent } from "../model";

export interface AuditLog {
  /** Appends to `event.stream`, or to the secret's own chain when the event names none. */
  append(event: AuditEvent): Promise<AuditEntry>;
  /** The entries of one chain: a secret's id, or a stream such as `instanceAuditStream(...)`. */
  list(stream: string): Promise<AuditEntry[]>;
  /** The record anchoring the end of the trail (see `AuditHead`); undefined for a stream never appended to. */
  head(stream: string): Promise<AuditHead | undefined>;
  /**
   * Every stream ever started for `secretId` (its own chain and its instances' streams), from the
   * secret's stream register: written with each stream's first entry, never deleted with instance
   * rows, so `audit verify` finds a removed consumer's streams and a stream deleted whole.
   */
  streams(secretId: string): Promise<string[]>;
}

export interface Alerts {
  send(alert: Alert): Promise<void>;
}
