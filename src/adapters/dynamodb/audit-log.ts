import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { AUDIT_GENESIS_HASH, auditHash } from "../../core/audit-chain";
import type { AuditEntry, AuditEvent } from "../../core/model";
import type { AuditLog, Clock } from "../../core/ports";
import { isConditionFailed, queryAll, strip } from "./client";

/** Every lost race means another writer appended; a whole fleet switching keys at once stays below this. */
const MAX_APPEND_RACES = 100;

/**
 * Append-only audit trail, one hash chain per secret (`stream` = secret id, `seq` = 1, 2, ...).
 * An append is a conditional put on the next sequence number: two writers racing for the same
 * number cannot both win, and nothing here ever updates or deletes an entry.
 */
export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {}

  private async last(stream: string): Promise<AuditEntry | undefined> {
    const [item] = await queryAll<Record<string, unknown>>(
      this.db,
      {
        TableName: this.table,
        KeyConditionExpression: "#st = :s",
        ExpressionAttributeNames: { "#st": "stream" },
        ExpressionAttributeValues: { ":s": stream },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      },
      1,
    );
    return item ? toEntry(item) : undefined;
  }

  async append(event: AuditEvent): Promise<AuditEntry> {
    for (let race = 0; race < MAX_APPEND_RACES; race++) {
      const previous = await this.last(event.secretId);
      const body: Omit<AuditEntry, "hash"> = {
        ...event,
        seq: (previous?.seq ?? 0) + 1,
        at: this.clock.now().toISOString(),
        prevHash: previous?.hash ?? AUDIT_GENESIS_HASH,
      };
      const entry: AuditEntry = { ...body, hash: auditHash(body) };
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...entry, stream: entry.secretId },
            ConditionExpression: "attribute_not_exists(seq)",
          }),
        );
        return entry;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
    }
    throw new Error(`audit append for ${event.secretId} lost ${MAX_APPEND_RACES} races in a row`);
  }

  async list(secretId: string): Promise<AuditEntry[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "#st = :s",
      ExpressionAttributeNames: { "#st": "stream" },
      ExpressionAttributeValues: { ":s": secretId },
      ConsistentRead: true,
    });
    return items.map(toEntry);
  }
}

function toEntry(item: Record<string, unknown>): AuditEntry {
  return strip<AuditEntry>(item, "stream");
}
