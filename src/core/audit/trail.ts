import type { AuditEntry } from "../model";
import type { AuditLog, ConsumerRegistry, RotationStore } from "../ports";
import { type AuditVerification, instanceAuditStream, verifyAuditTrail } from "./chain";

export interface SecretAuditVerification {
  ok: boolean;
  /** The secret's own chain (rotation steps, operator actions). */
  secret: AuditVerification;
  /** Every instance stream, by stream id: only those that do not verify, or do not reach their row's anchor. */
  broken: Record<string, AuditVerification>;
  instanceStreams: number;
  instanceEntries: number;
  /** The stream register lists the secret's own chain: it was started, whatever is left of it. */
  started: boolean;
}

/** What a stream the register lists, but that has neither head nor entries, is. */
const DELETED_WHOLE = "no audit trail: the stream register lists it, so it was deleted whole (head included)";

/**
 * The secret's chain must begin where its enrollment record (another table) says it began: the
 * `secret-enrolled` entry that carries the record's `enrolledAt`. A trail deleted whole — head and
 * stream register too — and then appended to restarts at genesis with some other entry; the
 * enrollment record outlives that and tells. Entries written before `enrolledAt` was recorded in
 * the first entry are judged by the action alone.
 */
function enrollmentMismatch(first: AuditEntry | undefined, enrolledAt: string): string | undefined {
  if (!first) return undefined;
  const recorded = first.details?.enrolledAt;
  if (first.action === "secret-enrolled" && (recorded === undefined || recorded === enrolledAt))
    return undefined;
  return (
    `the chain does not begin with the secret's enrollment (enrolled ${enrolledAt}; seq 1 is ` +
    `"${first.action}" at ${first.at}): the trail was deleted whole and restarted`
  );
}

/**
 * The whole trail of a secret: its own chain, and the stream of every consumer instance (its
 * fingerprint changes), each checked to verify and to reach what the instance row anchors.
 *
 * Input: secret id. Output: per-stream verdicts.
 * 1. Verify the secret's chain against its head; when the secret is enrolled, its first entry must be
 *    the enrollment its settings record (see `enrollmentMismatch`).
 * 2. Find the instance streams in the secret's stream register (`AuditLog.streams`), which outlives
 *    the instance rows (a removal or their TTL deletes those), and in the instance rows that are left.
 * 3. Verify every stream against its head; a registered stream with neither head nor entries was
 *    deleted whole. Where an instance row is left, the entry at its `auditSeq` must carry its
 *    `auditHash` (a stream replaced whole, head and all, fails here).
 */
export async function verifySecretAudit(
  secretId: string,
  deps: {
    audit: Pick<AuditLog, "list" | "head" | "streams">;
    consumers: Pick<ConsumerRegistry, "listInstances">;
    /** The enrollment record, read from the rotations table: the anchor outside the audit table. */
    store?: Pick<RotationStore, "getSettings">;
  },
): Promise<SecretAuditVerification> {
  const registered = new Set(await deps.audit.streams(secretId));
  const started = registered.has(secretId);
  // The head first, then the entries: an append in between only adds entries past the head, which
  // verification leaves out; the other order sees a head ahead of the entries it read ("truncated").
  const ownHead = await deps.audit.head(secretId);
  const chain = await deps.audit.list(secretId);
  const own = verifyAuditTrail(chain, ownHead);
  const enrolledAt = (await deps.store?.getSettings(secretId))?.enrolledAt;
  const restarted = own.ok && enrolledAt ? enrollmentMismatch(chain[0], enrolledAt) : undefined;
  const secret: AuditVerification =
    started && !own.ok && own.entries === 0 && own.brokenAt?.seq === 0
      ? { ...own, brokenAt: { seq: 0, reason: DELETED_WHOLE } }
      : restarted
        ? { ok: false, entries: own.entries, brokenAt: { seq: 1, reason: restarted } }
        : own;
  const rows = new Map(
    (await deps.consumers.listInstances(secretId)).map((i) => [
      instanceAuditStream(secretId, i.consumerId, i.instanceId),
      i,
    ]),
  );
  const streams = [...new Set([...registered, ...rows.keys()])].filter((s) => s !== secretId).sort();
  const broken: Record<string, AuditVerification> = {};
  let instanceEntries = 0;
  let instanceStreams = 0;
  for (const stream of streams) {
    const instance = rows.get(stream);
    const head = await deps.audit.head(stream);
    const entries = await deps.audit.list(stream);
    const nothing = entries.length === 0 && !head;
    // A row from before instance streams: its changes are in the secret's own chain.
    if (nothing && !registered.has(stream) && instance?.auditSeq === undefined) continue;
    instanceStreams += 1;
    const verdict = nothing
      ? { ok: false, entries: 0, brokenAt: { seq: 0, reason: DELETED_WHOLE } }
      : verifyAuditTrail(entries, head);
    instanceEntries += verdict.entries;
    const anchored = entries.find((e) => e.seq === instance?.auditSeq);
    if (!verdict.ok) {
      broken[stream] = verdict;
    } else if (instance?.auditSeq !== undefined && anchored?.hash !== instance.auditHash) {
      broken[stream] = {
        ok: false,
        entries: verdict.entries,
        brokenAt: {
          seq: instance.auditSeq,
          reason: "the instance row anchors an entry its stream does not hold (stream truncated or replaced)",
        },
      };
    }
  }
  return {
    ok: secret.ok && Object.keys(broken).length === 0,
    secret,
    broken,
    instanceStreams,
    instanceEntries,
    started,
  };
}
