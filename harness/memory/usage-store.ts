import type { MisuseAck } from "../../src/core/misuse/report";
import type { StoredUsage, UsageRecord } from "../../src/core/misuse/usage";
import type { MisuseAckStore, UsageStore } from "../../src/core/ports";
import { copy } from "./copy";

/**
 * The consumers table's usage items in memory: one per secret × fingerprint × hour, counters
 * added, sets joined, the key id kept from its first writer — proven equal to `DynamoUsageStore`
 * by usage-store.suite.ts.
 */
export class InMemoryUsageStore implements UsageStore {
  /** Not a port method: every record added, in order (what the heartbeat wrote). */
  readonly writes: UsageRecord[] = [];
  private readonly items = new Map<string, StoredUsage>();

  async addUsage(record: UsageRecord): Promise<void> {
    this.writes.push(copy(record));
    const key = `${record.secretId}#${record.hour}#${record.fingerprint}`;
    const item = this.items.get(key) ?? {
      secretId: record.secretId,
      hour: record.hour,
      fingerprint: record.fingerprint,
      requests: {},
      authFailures: {},
      consumerIds: [],
      sourceIps: [],
    };
    if (item.keyId === undefined && record.keyId !== undefined) item.keyId = record.keyId;
    for (const [k, n] of Object.entries(record.requests) as [keyof StoredUsage["requests"], number][])
      if (n) item.requests[k] = (item.requests[k] ?? 0) + n;
    for (const [k, n] of Object.entries(record.authFailures) as [keyof StoredUsage["authFailures"], number][])
      if (n) item.authFailures[k] = (item.authFailures[k] ?? 0) + n;
    item.consumerIds = [...new Set([...item.consumerIds, record.consumerId])].sort();
    if (record.sourceIp) item.sourceIps = [...new Set([...item.sourceIps, record.sourceIp])].sort();
    this.items.set(key, item);
  }

  async readUsage(secretId: string, fromHour: number, toHour: number): Promise<StoredUsage[]> {
    return [...this.items.values()]
      .filter((i) => i.secretId === secretId && i.hour >= fromHour && i.hour < toHour)
      .sort((a, b) => a.hour - b.hour || a.fingerprint.localeCompare(b.fingerprint))
      .map(copy);
  }
}

/** Acknowledged findings in memory, keyed like `DynamoMisuseAcks` (one per secret × finding). */
export class InMemoryMisuseAcks implements MisuseAckStore {
  private readonly acks = new Map<string, MisuseAck>();

  async putAck(ack: MisuseAck): Promise<void> {
    this.acks.set(`${ack.secretId}#${ack.findingId}`, copy(ack));
  }

  async listAcks(secretId: string): Promise<MisuseAck[]> {
    return [...this.acks.values()]
      .filter((a) => a.secretId === secretId)
      .sort((a, b) => a.findingId.localeCompare(b.findingId))
      .map(copy);
  }
}
