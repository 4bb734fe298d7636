/** The consumers table's usage items (issue 20): what consumers reported, per secret × key × hour. */
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
