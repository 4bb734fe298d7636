import { sanitizeErrorMessage } from "../errors";
import type { AuditEntry } from "../model";
import type { Alerts, AuditArchive } from "../ports";
import { canonical } from "./chain";

/**
 * The archive's layout: one object per entry, `trails/<stream>/<seq>.json`, the stream id
 * URI-encoded (so `/` and `#` in ids cannot blur where one trail ends) and the seq zero-padded to
 * 12 digits (so key order is seq order: a reader lists a trail's prefix and has it in order).
 */
export const ARCHIVE_PREFIX = "trails/";
const SEQ_DIGITS = 12;

export function archiveKey(stream: string, seq: number): string {
  return `${ARCHIVE_PREFIX}${encodeURIComponent(stream)}/${String(seq).padStart(SEQ_DIGITS, "0")}.json`;
}

/** The stream and seq of an archive key, or undefined for a key not laid out by `archiveKey`. */
export function parseArchiveKey(key: string): { stream: string; seq: number } | undefined {
  const match = /^trails\/([^/]+)\/(\d{12})\.json$/.exec(key);
  if (!match) return undefined;
  return { stream: decodeURIComponent(match[1] ?? ""), seq: Number(match[2]) };
}

/** The archived bytes of an entry: canonical JSON, so a redelivery writes byte-identical content. */
export function archiveBody(entry: AuditEntry): string {
  return `${canonical(entry)}\n`;
}

/** The stream an entry belongs to (the secret's own chain stores none). */
export function entryStream(entry: AuditEntry): string {
  return entry.stream ?? entry.secretId;
}

/** One record of the audit table's stream, as the handler hands it over. */
export interface AuditStreamRecord {
  /** The record's stream sequence number: what a batch failure names. */
  id: string;
  eventName: "INSERT" | "MODIFY" | "REMOVE";
  /** The item after the change (NEW_IMAGE), plain JSON; absent on REMOVE. */
  image?: Record<string, unknown>;
}

/**
 * The audit entry an item of the audit table is, or undefined for the other items the table holds
 * (heads at seq 0, stream-register items), which are not entries and are not archived: the archive
 * holds entries, and a reader rebuilds every chain from them.
 */
export function entryOfItem(item: Record<string, unknown>): AuditEntry | undefined {
  const { seq, hash, prevHash, action, secretId, at } = item;
  if (typeof seq !== "number" || seq < 1 || !Number.isInteger(seq)) return undefined;
  if ([hash, prevHash, action, secretId, at].some((v) => typeof v !== "string")) return undefined;
  // The table keys the secret's own chain by the secret id; the entry itself carries no stream then.
  const { stream, ...rest } = item;
  return (stream === secretId ? rest : item) as unknown as AuditEntry;
}

export interface ArchiveOutcome {
  archived: number;
  /** Redeliveries: the same entry already archived with the same bytes. */
  alreadyArchived: number;
  /** Entries whose archived bytes differ (a rewrite in the table): alerted, the archive kept. */
  conflicts: Array<{ stream: string; seq: number }>;
  skipped: number;
  /** The record to resume from (ReportBatchItemFailures), when one failed, and why (sanitized). */
  failedAt?: string;
  failure?: string;
}

/**
 * Copies the audit table's entries, in stream order, to the write-once archive.
 *
 * Input: one batch of stream records, in order. Output: what was archived; the first failure.
 * 1. Skip what is not an entry: heads, register items, removals (a removed entry stays archived;
 *    `keyshift audit verify` reports it missing from the table).
 * 2. Put the entry's canonical bytes at its key, only where nothing is (never an overwrite).
 * 3. Something there: the same bytes is a redelivery (done); other bytes is a rewrite of an
 *    archived entry in the table: alert, keep the archive as it is, move on (retrying cannot
 *    change either side, and would hold up every later entry of the shard).
 * 4. An error stops the batch at that record: Lambda redelivers from it, so order holds.
 */
export async function archiveAuditRecords(
  records: readonly AuditStreamRecord[],
  deps: { archive: AuditArchive; alerts: Alerts },
): Promise<ArchiveOutcome> {
  const outcome: ArchiveOutcome = { archived: 0, alreadyArchived: 0, conflicts: [], skipped: 0 };
  for (const record of records) {
    const entry = record.image && entryOfItem(record.image);
    if (!entry) {
      outcome.skipped += 1;
      continue;
    }
    const stream = entryStream(entry);
    const body = archiveBody(entry);
    try {
      const put = await deps.archive.putOnce(archiveKey(stream, entry.seq), body);
      if (put.created) outcome.archived += 1;
      else if (sameEntry(put.existing, body)) outcome.alreadyArchived += 1;
      else {
        outcome.conflicts.push({ stream, seq: entry.seq });
        await deps.alerts.send({
          kind: "audit-archive-conflict",
          secretId: entry.secretId,
          subject: `audit entry ${stream} seq ${entry.seq} was rewritten in the table; the archive keeps the original`,
          details: { stream, seq: entry.seq, eventName: record.eventName },
        });
      }
    } catch (err) {
      outcome.failedAt = record.id;
      outcome.failure = `${(err as Error).name}: ${sanitizeErrorMessage(err, 200)}`;
      return outcome;
    }
  }
  return outcome;
}

/** Archived bytes are canonical; compare parsed, so a reformatted object is not a false conflict. */
function sameEntry(existing: string, body: string): boolean {
  if (existing === body) return true;
  try {
    return `${canonical(JSON.parse(existing))}\n` === body;
  } catch {
    return false;
  }
}
