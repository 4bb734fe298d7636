import { createHash } from "node:crypto";
import type { AuditEntry, AuditEvent } from "../model";

export const AUDIT_GENESIS_HASH = "0".repeat(64);

/**
 * Canonical JSON: keys sorted at every level, so the hash does not depend on attribute order (and an
 * archived entry's bytes do not depend on how a stream record happened to order its attributes).
 */
export function canonical(value: unknown): string {
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
  /**
   * The seq of an entry verified from the head because its own write has not happened yet (an
   * append interrupted between its two writes); counted in `entries`, stored by the next append.
   */
  pending?: number;
}

/**
 * The chain of one consumer instance: its fingerprint changes. One writer (the instance's own
 * heartbeats), so a whole fleet switching keys never races the secret's chain — where the rotation
 * steps append — nor each other. The instance row anchors it (`auditSeq`/`auditHash`).
 */
export function instanceAuditStream(secretId: string, consumerId: string, instanceId: string): string {
  return `${secretId}#instance#${consumerId}#${instanceId}`;
}

/**
 * The stream register of a secret: every stream started for it, kept outside the streams themselves
 * (in DynamoDB one item per stream, put once: append-only like the entries, so a role that may only
 * append never needs to update). An append registers its stream when it writes the stream's first
 * head (only on seq 1: the heartbeat's steady path never appends). It answers two questions the
 * streams cannot answer about themselves once deleted whole, head included:
 * - does this stream exist? An append that finds neither head nor entries for a registered stream
 *   refuses (restarting it at genesis would hide the deletion), and `audit verify` fails it;
 * - which streams are there? Instance rows go away with a removal or their TTL; the register stays.
 * It is added after the head of entry 1 (an append that dies before its head leaves nothing to
 * register, never a registered stream with nothing in it, which would read as a deletion); an
 * append that dies between the two leaves an uncommitted head at seq 1, and the next append of
 * the stream registers it while storing that entry.
 */
export function streamRegisterOf(secretId: string): string {
  return `${secretId}#streams`;
}

/** Rejected heartbeats, rate-limited per principal: kept out of every secret's own chain. */
export const HEARTBEAT_REJECTIONS_STREAM = "_heartbeat-rejections";

/** The chain an event goes to. */
export function streamOf(event: AuditEvent): string {
  return event.stream ?? event.secretId;
}

/** The entry that follows `previous` (none: the first of the stream) for `event`. */
export function nextAuditEntry(previous: AuditEntry | undefined, event: AuditEvent, at: Date): AuditEntry {
  // A stream named like the secret is the secret's chain: stored without the field, so stored and
  // read-back entries hash the same.
  const { stream, ...rest } = event;
  const body: Omit<AuditEntry, "hash"> = {
    ...rest,
    ...(stream !== undefined && stream !== event.secretId ? { stream } : {}),
    seq: (previous?.seq ?? 0) + 1,
    at: at.toISOString(),
    prevHash: previous?.hash ?? AUDIT_GENESIS_HASH,
  };
  return { ...body, hash: auditHash(body) };
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

/**
 * The anchor of one secret's trail: the latest entry, in full, and whether its own write is known
 * to have happened. A hash chain alone proves that no entry was edited or removed in the middle;
 * only something outside the entries can tell that the last ones were removed. The head is that:
 * one record per stream (seq 0 in the audit table, in the same partition as the entries).
 *
 * The append protocol (no transactions: dynalite has none), for the next entry n:
 *   1. Read the head (entry n-1). If it is not committed, write entry n-1 from the head first
 *      (a no-op when it exists): a previous append stopped between its steps 2 and 4.
 *   2. Write the head for n, uncommitted, holding entry n in full: conditional on the head still
 *      being at n-1, so of two racing appends one wins and the other starts over at step 1.
 *   3. Write entry n (conditional on its seq being free; taken means step 1 of a racing append
 *      already wrote it from the head, the same entry).
 *   4. Mark the head committed, conditional on it still being at n.
 *
 * What a crash leaves, and what verification says about it (`verifyAuditTrail`):
 * - after 2: the head is one ahead of the entries and uncommitted. Its entry links to the last
 *   stored one and verifies, so the trail verifies with that entry `pending`; the next append
 *   stores it (step 1). Never a false break, and nothing is lost: the entry is in the head.
 * - after 3: the head is uncommitted at n and entry n is stored: verifies.
 * - once 4 has run, entry n is known to be stored: if it goes missing the trail was truncated,
 *   and verification fails. Removing the last entries, or all of them, leaves a head that the
 *   trail falls short of; removing the head too leaves no trail at all, which is an error of its own.
 * The one window where a removed last entry does not show is between 2 and 4 (or after a crash
 * there); it is then restored from the head, not lost. Entries without a head were not written
 * by this protocol: verification fails and appends refuse to extend them (re-anchoring silently
 * would let a delete-only actor truncate the trail and remove the head to hide it).
 * The head sits in the same table: someone who can put items can rewrite head and entries
 * together; the anchor catches deletions and edits of entries, not a rewrite of the whole end. The
 * write-once archive does (`verifyAgainstArchive`, src/core/audit/archive-verify.ts).
 */
export interface AuditHead {
  /** The seq of the latest entry. */
  seq: number;
  /** Its hash: what the stored entry `seq` must carry. */
  hash: string;
  /** The latest entry in full, written here before the entry itself (the append's intent). */
  entry: AuditEntry;
  /** Entry `seq` is known to be stored (set after its write). */
  committed: boolean;
}

/** The head that anchors `entry`: uncommitted until the entry's own write is confirmed. */
export function auditHeadFor(entry: AuditEntry, committed = false): AuditHead {
  return { seq: entry.seq, hash: entry.hash, entry, committed };
}

/**
 * Verifies a whole trail: the chain of stored `entries` (sorted by seq), and that it reaches its
 * `head` (see `AuditHead` for what each state means). No head and no entries is no trail at all.
 * Read the head first, then the entries: an append in between only adds entries past the head,
 * which are left out here (the head is written before any entry, so nothing else puts them there).
 */
export function verifyAuditTrail(stored: AuditEntry[], head: AuditHead | undefined): AuditVerification {
  const entries = head ? stored.filter((e) => e.seq <= head.seq) : stored;
  const chain = verifyAuditChain(entries);
  if (!chain.ok) return chain;
  const last = entries.at(-1);
  const lastSeq = last?.seq ?? 0;
  const broken = (seq: number, reason: string): AuditVerification => ({
    ok: false,
    entries: entries.length,
    brokenAt: { seq, reason },
  });
  if (!head) {
    return last
      ? broken(lastSeq, "no head record: the end of the trail is not anchored")
      : broken(0, "no audit trail");
  }
  const { hash: headEntryHash, ...headEntryBody } = head.entry;
  if (
    head.entry.seq !== head.seq ||
    head.entry.hash !== head.hash ||
    auditHash(headEntryBody) !== headEntryHash
  ) {
    return broken(head.seq, "head record does not verify");
  }
  if (lastSeq === head.seq) {
    return last?.hash === head.hash ? chain : broken(head.seq, "entry does not match the head");
  }
  if (lastSeq === head.seq - 1 && !head.committed) {
    // An append stopped between writing the head and the entry: the head holds the entry.
    if (head.entry.prevHash !== (last?.hash ?? AUDIT_GENESIS_HASH)) {
      return broken(head.seq, "head's pending entry does not link");
    }
    return { ok: true, entries: entries.length + 1, pending: head.seq };
  }
  return broken(
    lastSeq + 1,
    `missing: the trail ends at seq ${lastSeq} but its head is at seq ${head.seq} (truncated)`,
  );
}
