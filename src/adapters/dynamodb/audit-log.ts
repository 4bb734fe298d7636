import { createHash } from "node:crypto";
import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import {
  type AuditHead,
  auditHeadFor,
  nextAuditEntry,
  streamOf,
  streamRegisterOf,
} from "../../core/audit/chain";
import { AuditChainBrokenError } from "../../core/errors";
import type { AuditEntry, AuditEvent } from "../../core/model";
import type { AuditLog, Clock } from "../../core/ports";
import { isConditionFailed, queryAll, strip } from "./client";

/** Every lost race means another writer appended; a whole fleet switching keys at once stays below this. */
const MAX_APPEND_RACES = 100;
/** The head record's sort key: below every entry (entries start at seq 1), in the same partition. */
const HEAD_SEQ = 0;

interface HeadItem {
  stream: string;
  seq: typeof HEAD_SEQ;
  headSeq: number;
  headHash: string;
  committed: boolean;
  entry: AuditEntry;
}

/**
 * Append-only audit trail, one hash chain per stream (`stream` = the secret id for the secret's own
 * chain, or another stream an event names, e.g. an instance's; `seq` = 1, 2, ...),
 * anchored by a head record at `seq` 0 that every append advances first (the protocol and what a
 * crash between its writes leaves are in `AuditHead`, src/core/audit/chain.ts). Every write is a
 * conditional put — on the head's seq, or on an entry's seq being free — so two writers racing for
 * the same number cannot both win; entries are never updated or deleted. Query and PutItem only:
 * the head is read with the entries' own Query, and committed by a conditional put. The secret's
 * stream register (`streamRegisterOf`: one item per stream in its own partition, put once) gets
 * each stream's first entry; see `streamRegisterOf` in src/core/audit/chain.ts.
 */
export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  async append(event: AuditEvent): Promise<AuditEntry> {
    const stream = streamOf(event);
    for (let race = 0; race < MAX_APPEND_RACES; race++) {
      const { head, first } = await this.start(stream);
      if (!head && first) {
        throw new AuditChainBrokenError(
          `audit trail of ${stream} has entries (seq ${first.seq}, ...) but no head record: ` +
            "its end is not anchored (see `keyshift audit verify`); nothing appended",
        );
      }
      if (!head && !first && (await this.streams(event.secretId)).includes(stream)) {
        throw new AuditChainBrokenError(
          `audit trail of ${stream} was started (the stream register of ${event.secretId} lists it) but its head ` +
            "and entries are gone: it was deleted whole, and restarting it at genesis would hide that. Nothing " +
            `appended; see \`keyshift audit verify ${event.secretId}\``,
        );
      }
      // A previous append stopped after writing the head: store its entry before moving on.
      if (head && !head.committed) {
        if (head.seq === 1) await this.register(event.secretId, stream);
        await this.putEntry(head.entry);
      }
      const entry = nextAuditEntry(head?.entry, event, this.clock.now());
      try {
        await this.putHead(auditHeadFor(entry), head && { seq: head.seq, hash: head.hash });
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        continue;
      }
      if (entry.seq === 1) await this.register(event.secretId, stream);
      await this.putEntry(entry);
      await this.commit(entry);
      return entry;
    }
    throw new Error(`audit append for ${stream} lost ${MAX_APPEND_RACES} races in a row`);
  }

  async list(stream: string): Promise<AuditEntry[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "#st = :s AND #seq > :head",
      ExpressionAttributeNames: { "#st": "stream", "#seq": "seq" },
      ExpressionAttributeValues: { ":s": stream, ":head": HEAD_SEQ },
      ConsistentRead: true,
    });
    return items.map(toEntry);
  }

  async head(stream: string): Promise<AuditHead | undefined> {
    return (await this.start(stream)).head;
  }

  async streams(secretId: string): Promise<string[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "#st = :s",
      ExpressionAttributeNames: { "#st": "stream" },
      ExpressionAttributeValues: { ":s": streamRegisterOf(secretId) },
      ConsistentRead: true,
    });
    const found = new Set<string>();
    for (const item of items) {
      if (typeof item.registered === "string") found.add(item.registered);
      // A register written before it became append-only: one string set at seq 0.
      for (const stream of (item.streams as Set<string> | undefined) ?? []) found.add(stream);
    }
    return [...found].sort();
  }

  /**
   * Registers `stream` in the secret's register: one item per stream, at a seq derived from its
   * name, written by a conditional put that never overwrites (already there: done). Append-only like
   * every other write here, so the roles that append (the heartbeat's included) need no UpdateItem
   * on the audit table: Query and PutItem only.
   */
  private async register(secretId: string, stream: string): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { stream: streamRegisterOf(secretId), seq: registerSeqOf(stream), registered: stream },
          ConditionExpression: "attribute_not_exists(#seq)",
          ExpressionAttributeNames: { "#seq": "seq" },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  /** The lowest item of the stream: the head when there is one, else the first entry, if any. */
  private async start(stream: string): Promise<{ head?: AuditHead; first?: AuditEntry }> {
    const [item] = await queryAll<Record<string, unknown>>(
      this.db,
      {
        TableName: this.table,
        KeyConditionExpression: "#st = :s",
        ExpressionAttributeNames: { "#st": "stream" },
        ExpressionAttributeValues: { ":s": stream },
        ScanIndexForward: true,
        Limit: 1,
        ConsistentRead: true,
      },
      1,
    );
    if (!item) return {};
    if (item.seq !== HEAD_SEQ) return { first: toEntry(item) };
    const head = item as unknown as HeadItem;
    return { head: { seq: head.headSeq, hash: head.headHash, entry: head.entry, committed: head.committed } };
  }

  /**
   * Writes the head, only over the head at `from` (seq and hash), or only where none exists yet
   * (`from` undefined).
   */
  private async putHead(head: AuditHead, from: { seq: number; hash: string } | undefined): Promise<void> {
    const item: HeadItem = {
      stream: streamOf(head.entry),
      seq: HEAD_SEQ,
      headSeq: head.seq,
      headHash: head.hash,
      committed: head.committed,
      entry: head.entry,
    };
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: item,
        ...(from
          ? {
              ConditionExpression: "headSeq = :seq AND headHash = :hash",
              ExpressionAttributeValues: { ":seq": from.seq, ":hash": from.hash },
            }
          : {
              ConditionExpression: "attribute_not_exists(#seq)",
              ExpressionAttributeNames: { "#seq": "seq" },
            }),
      }),
    );
  }

  /** Writes an entry once; taken means a racing append already wrote it from the head (the same entry). */
  private async putEntry(entry: AuditEntry): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...entry, stream: streamOf(entry) },
          ConditionExpression: "attribute_not_exists(#seq)",
          ExpressionAttributeNames: { "#seq": "seq" },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  /** Marks the head committed, unless it has moved on (the next append made sure the entry exists). */
  private async commit(entry: AuditEntry): Promise<void> {
    try {
      await this.putHead(auditHeadFor(entry, true), { seq: entry.seq, hash: entry.hash });
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
}

/** The secret's own chain stores `stream` as its key only; other streams' entries carry the field. */
function toEntry(item: Record<string, unknown>): AuditEntry {
  return item.stream === item.secretId ? strip<AuditEntry>(item, "stream") : (item as unknown as AuditEntry);
}

/**
 * The register item's seq for a stream: 48 bits of its name's SHA-256, above the head's 0. Two
 * stream names of one secret colliding would need 2^24 streams; the item carries the name anyway.
 */
function registerSeqOf(stream: string): number {
  return Number.parseInt(createHash("sha256").update(stream).digest("hex").slice(0, 12), 16) + 1;
}
