import type { AuditEntry } from "../model";
import type { AuditArchive, AuditLog, Clock } from "../ports";
import { ARCHIVE_PREFIX, archiveBody, entryOfItem, entryStream, parseArchiveKey } from "./archive";
import { verifyAuditChain } from "./chain";

/** How a trail's table and archive disagree, at its first differing seq. */
export type ArchiveFindingKind =
  | "differs"
  | "missing-from-archive"
  | "missing-from-table"
  | "archive-chain-broken"
  | "archive-unreadable";

export interface ArchiveFinding {
  stream: string;
  /** The first seq where the table and the archive part (or the archive's chain breaks). */
  seq: number;
  kind: ArchiveFindingKind;
  reason: string;
}

export interface ArchiveVerification {
  ok: boolean;
  /** Trails compared: every stream the table or the archive holds for the secret. */
  trails: number;
  /** Entries found in both, byte for byte the same. */
  matching: number;
  /** The newest entries, not archived yet but younger than the stream's allowed lag: not findings. */
  pending: number;
  /** One finding per trail that does not match: its first differing seq. */
  findings: ArchiveFinding[];
}

/**
 * How far the archive may trail the table: the stream delivers within seconds, and a failing batch
 * is retried by Lambda; an entry missing from the archive for longer is a finding.
 */
export const ARCHIVE_LAG_MS = 5 * 60 * 1000;

/** Does `stream` belong to `secretId`: its own chain, or one of its instances' streams. */
function belongsTo(stream: string, secretId: string): boolean {
  return stream === secretId || stream.startsWith(`${secretId}#`);
}

/**
 * Checks a secret's trails in the table against the archive: what the hash chain and its head
 * cannot see — a trail rewritten in the table, head and entries together — shows here, because the
 * archive was written as the entries were and cannot be changed since.
 *
 * Input: secret id; the streams the table knows for it (its register and instance rows).
 * Output: per trail, its first differing seq.
 * 1. The trails: every stream of the secret in the table, and every one the archive holds under
 *    its prefix (a trail deleted from the table whole, register included, is still archived).
 * 2. Per trail, seq by seq: each table entry must be archived with the same canonical bytes, and
 *    each archived entry must be in the table. The first seq where they part is the finding.
 * 3. The archive's own chain must verify (it starts at genesis; a gap is reported as such).
 */
export async function verifyAgainstArchive(
  secretId: string,
  tableStreams: readonly string[],
  deps: { audit: Pick<AuditLog, "list">; archive: AuditArchive; clock: Clock },
): Promise<ArchiveVerification> {
  const archivedKeys = new Map<string, Map<number, string>>();
  for (const key of await deps.archive.list(`${ARCHIVE_PREFIX}${encodeURIComponent(secretId)}`)) {
    const parsed = parseArchiveKey(key);
    if (!parsed || !belongsTo(parsed.stream, secretId)) continue;
    const seqs = archivedKeys.get(parsed.stream) ?? new Map<number, string>();
    seqs.set(parsed.seq, key);
    archivedKeys.set(parsed.stream, seqs);
  }
  const streams = [...new Set([...tableStreams, ...archivedKeys.keys()])].sort();
  const result: ArchiveVerification = {
    ok: true,
    trails: streams.length,
    matching: 0,
    pending: 0,
    findings: [],
  };
  const lagFrom = deps.clock.now().getTime() - ARCHIVE_LAG_MS;
  for (const stream of streams) {
    const table = new Map((await deps.audit.list(stream)).map((e) => [e.seq, e]));
    const archived = archivedKeys.get(stream) ?? new Map<number, string>();
    const compared = await compareTrail(stream, table, archived, deps.archive, lagFrom);
    result.matching += compared.matching;
    result.pending += compared.pending ?? 0;
    if (compared.finding) result.findings.push(compared.finding);
  }
  result.ok = result.findings.length === 0;
  return result;
}

async function compareTrail(
  stream: string,
  table: Map<number, AuditEntry>,
  archivedKeys: Map<number, string>,
  archive: AuditArchive,
  lagFrom: number,
): Promise<{ matching: number; pending?: number; finding?: ArchiveFinding }> {
  const seqs = [...new Set([...table.keys(), ...archivedKeys.keys()])].sort((a, b) => a - b);
  const archivedEntries: AuditEntry[] = [];
  let matching = 0;
  const found = (seq: number, kind: ArchiveFindingKind, reason: string) => ({
    matching,
    finding: { stream, seq, kind, reason },
  });
  for (const seq of seqs) {
    const entry = table.get(seq);
    const key = archivedKeys.get(seq);
    if (!key) {
      // The stream is asynchronous: the last few entries may still be on their way.
      const rest = seqs.filter((s) => s >= seq);
      const inFlight = rest.every(
        (s) => !archivedKeys.has(s) && Date.parse(table.get(s)?.at ?? "") > lagFrom,
      );
      if (inFlight) return { matching, pending: rest.length };
      return found(seq, "missing-from-archive", "in the table but not in the archive");
    }
    const body = await archive.get(key);
    const archivedEntry = body === undefined ? undefined : parseArchived(body);
    if (!archivedEntry || entryStream(archivedEntry) !== stream || archivedEntry.seq !== seq) {
      return found(seq, "archive-unreadable", `archived object ${key} is not this trail's entry`);
    }
    if (!entry) {
      return found(seq, "missing-from-table", "archived, but gone from the table (deleted or truncated)");
    }
    if (archiveBody(entry) !== archiveBody(archivedEntry)) {
      return found(
        seq,
        "differs",
        `the table's entry differs from the archived one (archived action "${archivedEntry.action}" ` +
          `at ${archivedEntry.at}, table "${entry.action}" at ${entry.at}): rewritten in the table`,
      );
    }
    archivedEntries.push(archivedEntry);
    matching += 1;
  }
  const chain = verifyAuditChain(archivedEntries);
  if (!chain.ok && chain.brokenAt) {
    return found(chain.brokenAt.seq, "archive-chain-broken", `archive: ${chain.brokenAt.reason}`);
  }
  return { matching };
}

function parseArchived(body: string): AuditEntry | undefined {
  try {
    const item = JSON.parse(body) as unknown;
    return item && typeof item === "object" ? entryOfItem(item as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
