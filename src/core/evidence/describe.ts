/** How an audit entry reads on the evidence page: its kind on a rotation's timeline, and one line. */
import type { AuditEntry } from "../model";
import type { EvidenceDetails, TimelineKind } from "./model";

const KINDS: Record<string, TimelineKind> = {
  "rotation-started": "begun",
  "emergency-rotation-started": "begun",
  "rotation-resumed": "begun",
  "emergency-escalated": "begun",
  "next-created": "created",
  "current-promoted": "promoted",
  "key-disabled": "disabled",
  "key-revoked": "revoked",
  "revocation-attempt-failed": "failed",
  "revocation-needs-operator": "failed",
  "emergency-refused": "failed",
  "revocation-held": "held",
  "emergency-break-glass": "break-glass",
  "force-revoke-requested": "break-glass",
  "rotation-completed": "completed",
  "rotation-force-revoked": "completed",
  "rotation-stalled": "stalled",
  "rotation-execution-lost": "stalled",
  "rotation-aborted": "aborted",
  "rollback-requested": "rolled-back",
  "rotation-rolled-back": "rolled-back",
  "key-restore-requested": "operator",
  "key-restored": "operator",
  "revocation-requeued": "operator",
};

/**
 * An approval (the two-person rule): any entry whose action is `approval-…` (requested, granted,
 * denied, expired…) or that names an approval. Recognised by shape, so approvals show on the page
 * whatever their exact actions, in the secret's approvals and, with a rotation id, on its timeline.
 */
export function isApproval(entry: Pick<AuditEntry, "action" | "details">): boolean {
  return entry.action.startsWith("approval") || typeof entry.details?.approvalId === "string";
}

export function timelineKind(entry: Pick<AuditEntry, "action" | "details">): TimelineKind {
  if (isApproval(entry)) return "approval";
  return KINDS[entry.action] ?? "other";
}

/** Actions about a key that name no rotation: attached to the rotation that retires or made the key. */
export const KEY_ACTIONS = new Set([
  "key-disabled",
  "key-revoked",
  "revocation-attempt-failed",
  "revocation-needs-operator",
  "revocation-held",
  "key-restore-requested",
  "key-restored",
  "revocation-requeued",
]);

const text = (v: EvidenceDetails[string] | undefined): string =>
  v === undefined || v === null ? "?" : Array.isArray(v) ? v.join(", ") : String(v);

type Line = (d: (key: string) => string, details: EvidenceDetails) => string;

const LINES: Record<string, Line> = {
  "rotation-started": (d) => `rotation begun (trigger ${d("trigger")})`,
  "emergency-rotation-started": (d) => `EMERGENCY rotation begun (trigger ${d("trigger")}): ${d("reason")}`,
  "rotation-resumed": (d) => `resumed (route ${d("route")}, execution ${d("executionName")})`,
  "emergency-escalated": (d) => `escalated to an emergency: ${d("reason")}`,
  "next-created": (d, x) =>
    `new key ${d("nextKeyId")} created and stored as AWSPENDING (${d("nextFingerprint")})${x.reused === true ? ", reused" : ""}`,
  "current-promoted": (d) =>
    `promoted: AWSCURRENT moved to ${d("currentFingerprint")} (previous ${d("previousFingerprint")})`,
  "instance-confirmed": (d) => `consumer ${d("consumerId")} instance ${d("instanceId")} confirmed ${d("to")}`,
  "key-disabled": (d) =>
    `key ${d("keyId")} disabled (no longer authenticates); removed after ${d("removeAfter")}`,
  "key-revoked": (d) =>
    `key ${d("keyId")} revoked on the exchange (${d("outcome")}, attempt ${d("attempts")})`,
  "revocation-attempt-failed": (d) =>
    `revoking key ${d("keyId")} failed (attempt ${d("attempts")}): ${d("error")}; next attempt ${d("nextAttemptAt")}`,
  "revocation-needs-operator": (d) =>
    `revoking key ${d("keyId")} failed ${d("attempts")} times: NEEDS AN OPERATOR (${d("error")})`,
  "revocation-held": (d) => `revocation of key ${d("keyId")} held (${d("rule")}): ${d("reason")}`,
  "emergency-break-glass": (d) =>
    `BREAK-GLASS on key ${d("keyId")} requested by ${d("requestedBy")}: ${d("reason")}`,
  "force-revoke-requested": (d) => `force-revoke of key ${d("keyId")} requested: ${d("reason")}`,
  "rotation-completed": (d) =>
    `completed: ${d("outcome")} (previous key ${d("previousKeyId")}, ledger ${d("ledger")})`,
  "rotation-force-revoked": (d) => `completed by force-revoke of key ${d("keyId")} (ledger ${d("ledger")})`,
  "rotation-stalled": (d, x) =>
    x.error
      ? `stalled: ${d("error")}`
      : `stalled: ${d("laggingCount")} consumer(s) lagging (${d("lagging")})`,
  "rotation-execution-lost": () => "stalled: the execution driving it was lost",
  "rotation-aborted": (d) => `aborted before promotion: ${d("error")}`,
  "rollback-requested": (d) => `rollback requested: ${d("reason")}`,
  "rotation-rolled-back": (d) => `rolled back: key ${d("abandonedKeyId")} abandoned: ${d("reason")}`,
  "secret-read": (d) => `read by ${d("principalArn")} (${d("reader")})`,
  "secret-read-denied": (d) => `read DENIED to ${d("principalArn")} (${d("reader")})`,
  "consumer-registered": (d) =>
    `consumer ${d("consumerId")} registered (${d("principalArn")}, required ${d("required")})`,
  "consumer-removed": (d) => `consumer ${d("consumerId")} removed: ${d("reason")}`,
  "read-policy-synced": (d) =>
    `read policy set to the registry (readers: ${d("readers")}; digest ${d("digest")})`,
  "secret-enrolled": (d) => `enrolled (account ${d("exchangeAccount")}, key ${d("keyId")})`,
};

/** An approval's line, whatever its action: what it is about and who asked, from its details. */
function approvalLine(action: string, details: EvidenceDetails): string {
  const parts = [
    typeof details.command === "string" ? `command ${details.command}` : undefined,
    typeof details.requestedBy === "string" ? `requested by ${details.requestedBy}` : undefined,
    typeof details.approvedBy === "string" ? `approved by ${details.approvedBy}` : undefined,
    typeof details.ticket === "string" ? `ticket ${details.ticket}` : undefined,
    typeof details.reason === "string" ? `reason: ${details.reason}` : undefined,
    typeof details.approvalId === "string" ? `(approval ${details.approvalId})` : undefined,
  ].filter((p): p is string => p !== undefined);
  return parts.length ? `${action}: ${parts.join("; ")}` : action;
}

/** One line that says what the entry records, from its details only. */
export function summarize(action: string, details: EvidenceDetails): string {
  const line = LINES[action];
  if (line) return line((key) => text(details[key]), details);
  if (isApproval({ action, details })) return approvalLine(action, details);
  const reason = typeof details.reason === "string" ? `: ${details.reason}` : "";
  return `${action}${reason}`;
}
