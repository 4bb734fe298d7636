/** The secret's other evidence: who read it, approvals, other audited actions, hygiene (pure). */
import type { FindingKind, HygieneFinding } from "../hygiene/findings";
import type { AuditEntry } from "../model";
import { isApproval, summarize } from "./describe";
import type { AuditedAction, EvidencePeriod, HygieneEvidence, ReaderEvidence } from "./model";
import { inPeriod } from "./period";

const READS = new Set(["secret-read", "secret-read-denied"]);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** When a read happened: CloudTrail's event time (the audit entry is written minutes later). */
const readAt = (e: AuditEntry): string => {
  const t = str(e.details?.eventTime);
  return t && !Number.isNaN(Date.parse(t)) ? new Date(t).toISOString() : e.at;
};

/**
 * Who read the secret in the period, one row per principal, from the read audit (`secret-read`,
 * `secret-read-denied`: one entry per CloudTrail GetSecretValue event), with the principal's last
 * read ever from the read history (`lastReadEver`, filled by the caller).
 */
export function readersOf(chain: AuditEntry[], period: EvidencePeriod): ReaderEvidence[] {
  const rows = new Map<string, ReaderEvidence>();
  for (const e of chain) {
    if (!READS.has(e.action)) continue;
    const at = readAt(e);
    if (!inPeriod(period, at)) continue;
    const principal = str(e.details?.principalArn) ?? e.actor;
    let row = rows.get(principal);
    if (!row) {
      row = {
        principal,
        reader: str(e.details?.reader) ?? "unknown",
        consumerId: str(e.details?.consumerId) ?? null,
        served: 0,
        denied: 0,
        firstAt: at,
        lastAt: at,
        callers: [],
        lastReadEver: null,
      };
      rows.set(principal, row);
    }
    if (e.action === "secret-read-denied") row.denied += 1;
    else row.served += 1;
    if (at < row.firstAt) row.firstAt = at;
    if (at > row.lastAt) row.lastAt = at;
    if (!row.callers.includes(e.actor)) row.callers.push(e.actor);
  }
  return [...rows.values()].sort((a, b) => (a.principal < b.principal ? -1 : 1));
}

export function auditedAction(e: AuditEntry, secretId: string): AuditedAction {
  const details = { ...(e.details ?? {}) };
  return {
    at: e.at,
    action: e.action,
    actor: e.actor,
    summary: summarize(e.action, details),
    source: { stream: e.stream ?? secretId, seq: e.seq },
    details,
  };
}

/**
 * The entries of the period that are neither a rotation's nor a read: approvals apart (the two-person
 * rule's requests and decisions), then everything else (enrollment, registrations, removals, policy syncs).
 */
export function actionsOf(
  chain: AuditEntry[],
  used: Set<AuditEntry>,
  period: EvidencePeriod,
  secretId: string,
): { approvals: AuditedAction[]; actions: AuditedAction[] } {
  const inside = chain.filter((e) => inPeriod(period, e.at) && !READS.has(e.action));
  return {
    // An approval shows here even when it also sits on a rotation's timeline.
    approvals: inside.filter(isApproval).map((e) => auditedAction(e, secretId)),
    actions: inside.filter((e) => !used.has(e) && !isApproval(e)).map((e) => auditedAction(e, secretId)),
  };
}

/** Which kinds of hygiene finding an audited action resolves. */
const RESOLVES: Record<string, FindingKind[]> = {
  "rotation-completed": [
    "rotation-overdue",
    "never-rotated",
    "rotation-stuck",
    "key-expiring",
    "unbound-key-expires",
  ],
  "rotation-force-revoked": ["rotation-stuck"],
  "rotation-rolled-back": ["rotation-stuck"],
  "rotation-resumed": ["rotation-stuck"],
  "consumer-removed": ["silent-consumer"],
  "read-policy-synced": ["read-policy-drift"],
  "revocation-requeued": ["ledger-needs-operator"],
  "orphan-key-found": ["orphan-key"],
};

/**
 * The secret's hygiene: the findings open now (the hygiene audit judges the present and keeps no
 * history), and the audited actions of the period that resolve a kind of finding.
 */
export function hygieneOf(
  findings: HygieneFinding[],
  asOf: string,
  chain: AuditEntry[],
  period: EvidencePeriod,
  secretId: string,
): HygieneEvidence {
  return {
    asOf,
    findings: findings
      .filter((f) => f.secretId === secretId)
      .map((f) => ({ kind: f.kind, severity: f.severity, message: f.message, fix: f.fix, status: "open" })),
    resolutions: chain
      .filter((e) => RESOLVES[e.action] && inPeriod(period, e.at))
      .map((e) => ({ ...auditedAction(e, secretId), resolves: RESOLVES[e.action] ?? [] })),
  };
}
