/**
 * The evidence an auditor asks for, per period (`keyshift evidence`): one JSON document, rendered
 * as a self-contained page. Everything in it is read from the audit trail and the stores; every
 * detail copied from an audit entry is what that entry already holds (ids, key ids, fingerprints,
 * actors, reasons), never more: no secret value is read to build it.
 */
import type { AuditVerification } from "../audit/chain";
import type { FindingKind, Severity } from "../hygiene/findings";

export const EVIDENCE_SCHEMA = "keyshift-evidence/1";

/** An audit entry's details, as the entry holds them. */
export type EvidenceDetails = Record<string, string | number | boolean | null | string[]>;

/** The whole UTC days from `from` to `to`, both included; `end` is exclusive (the day after `to`). */
export interface EvidencePeriod {
  from: string;
  to: string;
  start: string;
  end: string;
}

/** What a timeline event says happened to the rotation. */
export type TimelineKind =
  | "begun"
  | "created"
  | "promoted"
  | "confirmed"
  | "disabled"
  | "revoked"
  | "failed"
  | "held"
  | "break-glass"
  | "approval"
  | "completed"
  | "stalled"
  | "aborted"
  | "rolled-back"
  | "operator"
  | "other";

export interface TimelineEvent {
  at: string;
  kind: TimelineKind;
  /** The audit entry's action (`current-promoted`), or `instance-confirmed` for a consumer's switch. */
  action: string;
  actor: string;
  /** One line a person reads. */
  summary: string;
  /** Where the entry is: the stream and its seq. */
  source: { stream: string; seq: number };
  inPeriod: boolean;
  details: EvidenceDetails;
}

/** How a rotation stands at the time the evidence was made. */
export type RotationStatus = "completed" | "stalled" | "aborted" | "rolled-back" | "in-progress";

export interface ConsumerConfirmation {
  consumerId: string;
  /** The first instance of the consumer reporting the new fingerprint; null: none did. */
  confirmedAt: string | null;
  instances: Array<{ instanceId: string; at: string; actor: string }>;
  /** Registered as required now (null: no longer registered). */
  required: boolean | null;
}

export interface RotationEvidence {
  rotationId: string;
  trigger: string | null;
  emergency: boolean;
  status: RotationStatus;
  /** The rotation record's outcome (`revoked`, `disabled`, `revocation-deferred`, …), when it has one. */
  outcome: string | null;
  startedAt: string;
  endedAt: string | null;
  previousKeyId: string | null;
  newKeyId: string | null;
  /** The new key's fingerprint as the audit recorded it (`next-created` / `current-promoted`). */
  newFingerprint: string | null;
  consumers: ConsumerConfirmation[];
  /** What is still open: consumers not confirmed, the previous key's ledger entry not final. */
  awaiting: string[];
  events: TimelineEvent[];
}

export interface ReaderEvidence {
  principal: string;
  /** `consumer`, `keyshift` (its own reader, CreateNext) or `unregistered`, as the read audit judged it. */
  reader: string;
  consumerId: string | null;
  served: number;
  denied: number;
  firstAt: string;
  lastAt: string;
  /** Session ARNs that made the reads. */
  callers: string[];
  /** The principal's last read of the secret ever, from the read history (null: not kept). */
  lastReadEver: string | null;
}

/** An audit entry that is not a rotation step nor a read: an approval, a registration, a policy sync. */
export interface AuditedAction {
  at: string;
  action: string;
  actor: string;
  summary: string;
  source: { stream: string; seq: number };
  details: EvidenceDetails;
}

export interface HygieneEvidence {
  /** When the findings were judged: the hygiene audit keeps no history, so this is the present. */
  asOf: string;
  findings: Array<{ kind: FindingKind; severity: Severity; message: string; fix: string; status: "open" }>;
  /** Audited actions in the period that resolve a kind of finding (a rotation, a policy sync, …). */
  resolutions: Array<AuditedAction & { resolves: FindingKind[] }>;
}

export interface AuditEvidence {
  ok: boolean;
  secret: AuditVerification;
  instanceStreams: number;
  instanceEntries: number;
  broken: Array<{ stream: string; seq: number | null; reason: string }>;
}

export interface SecretEvidence {
  secretId: string;
  exchangeAccount: string | null;
  enrolledAt: string | null;
  rotations: RotationEvidence[];
  readers: ReaderEvidence[];
  approvals: AuditedAction[];
  actions: AuditedAction[];
  hygiene: HygieneEvidence;
  audit: AuditEvidence;
}

export interface EvidenceSummary {
  secrets: number;
  rotations: number;
  byStatus: Record<RotationStatus, number>;
  reads: number;
  deniedReads: number;
  unregisteredReaders: number;
  approvals: number;
  findings: { high: number; medium: number; low: number };
  auditBroken: string[];
}

export interface EvidenceDocument {
  schema: typeof EVIDENCE_SCHEMA;
  generatedAt: string;
  generatedBy: string;
  period: EvidencePeriod;
  /** The one secret asked for (`--secret`); null: every enrolled secret. */
  selection: string | null;
  summary: EvidenceSummary;
  secrets: SecretEvidence[];
}
