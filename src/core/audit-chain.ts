import { createHash } from "node:crypto";
import type { AuditEntry } from "./model";

export const AUDIT_GENESIS_HASH = "0".repeat(64);

/** Canonical JSON: keys sorted at every level, so the hash does not depend on attribute order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The hash of an entry chains it to its predecessor for the same secret. */
export function auditHash(entry: Omit<AuditEntry, "hash">): string {
  const { prevHash, ...body } = entry;
  return createHash("sha256").update(prevHash).update("\n").update(canonical(body)).digest("hex");
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** First entry that does not verify, with the reason. */
  brokenAt?: { seq: number; reason: string };
}

/** Recomputes every hash in `entries` (sorted by seq) and checks sequence and links. */
export function verifyAuditChain(entries: AuditEntry[]): AuditVerification {
  let prevHash = AUDIT_GENESIS_HASH;
  let expectedSeq = 1;
  for (const entry of entries) {
    if (entry.seq !== expectedSeq) {
      return {
        ok: false,
        entries: entries.length,
        brokenAt: { seq: entry.seq, reason: `expected seq ${expectedSeq}` },
      };
    }
    if (entry.prevHash !== prevHash) {
      return {
        ok: false,
        entries: entries.length,
        brokenAt: { seq: entry.seq, reason: "prevHash does not link" },
      };
    }
    const { hash, ...rest } = entry;
    if (auditHash(rest) !== hash) {
      return {
        ok: false,
        entries: entries.length,
        brokenAt: { seq: entry.seq, reason: "content does not match hash" },
      };
    }
    prevHash = hash;
    expectedSeq += 1;
  }
  return { ok: true, entries: entries.length };
}
