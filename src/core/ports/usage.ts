/**
 * Misuse detection's storage (issue 20), both in the consumers table: what consumers reported per
 * secret × key × hour, and the operators' acknowledgements of findings.
 */
import type { MisuseAck } from "../misuse/report";
import type { StoredUsage, UsageRecord } from "../misuse/usage";

export interface UsageStore {
  /**
   * Adds one heartbeat's counts of one hour to the secret × key × hour item (created on first
   * use): counters only grow, the consumer and source IP join sets, the key id is set once. One
   * write per hour carried, no read.
   */
  addUsage(record: UsageRecord): Promise<void>;
  /** Every item of the secret whose hour is in [fromHour, toHour), by hour then fingerprint. */
  readUsage(secretId: string, fromHour: number, toHour: number): Promise<StoredUsage[]>;
}

/** Acknowledged findings, per secret: one item per finding id, replaced by a later ack of it. */
export interface MisuseAckStore {
  putAck(ack: MisuseAck): Promise<void>;
  /** Every ack of the secret still stored, expired ones included (the caller judges `until`). */
  listAcks(secretId: string): Promise<MisuseAck[]>;
}
