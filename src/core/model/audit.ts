/** Audit entries (I8: a hash chain per stream) and the alerts keyshift sends. */

export interface AuditEvent {
  /** The secret the event concerns, or `_system` for events with no secret. */
  secretId: string;
  /**
   * The chain the entry goes to; the secret's own chain when absent. Heartbeats write elsewhere
   * (an instance's stream, the rejections stream) so a fleet never contends with a rotation.
   */
  stream?: string;
  actor: string;
  action: string;
  details?: Record<string, string | number | boolean | null | string[]>;
}

export interface AuditEntry extends AuditEvent {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export type AlertKind =
  | "rotation-stalled"
  | "revocation-failed"
  | "revocation-needs-operator"
  | "unknown-fingerprint"
  | "rejected-principal"
  | "rotation-aborted"
  | "revocation-refused"
  | "rotation-execution-lost"
  | "key-restored"
  | "emergency-rotation"
  | "emergency-revocation"
  | "hygiene-findings"
  | "key-expiring"
  | "unregistered-reader"
  | "anomalous-reads"
  | "manual-step"
  | "manual-step-overdue"
  | "audit-archive-conflict"
  | "misuse-finding";

export interface Alert {
  kind: AlertKind;
  secretId: string;
  subject: string;
  details: Record<string, string | number | boolean | string[]>;
}
