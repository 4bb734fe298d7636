/**
 * Misuse detection's storage (issue 20), both in the consumers table: what consumers reported per
 * secret × key × hour, and the operators' acknowledgements of findings.
 */
import type { ExchangeAggregate } from "../misuse/exchange-side";
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

/** An account's pull cursor: where its next exchange pull starts, and who is pulling now. */
export interface ExchangeCursor {
  /** The exchange adapter's own cursor; absent before the first pull stored anything. */
  cursor?: string;
  /** Grows by one each advance: the condition of every write. 0 before the first. */
  version: number;
  /** A pull claimed the account until then (ms): another waits or skips it. */
  claimedUntilMs?: number;
}

/**
 * What the exchanges saw, per account × hour × endpoint class × IP (issue 20), and each account's
 * pull cursor. A pull claims the account (conditional on the version it read and no live claim),
 * adds its sums, then advances the cursor (conditional on the same version): two runs never both
 * store a batch, and the cursor moves only after the sums are stored.
 */
export interface ExchangeActivityStore {
  /** Adds the sums into their items (created on first use): counts only grow; one write an item. */
  addActivity(aggregates: readonly ExchangeAggregate[]): Promise<void>;
  /** Every sum of the account whose hour is in [fromHour, toHour), by hour. */
  readActivity(account: string, fromHour: number, toHour: number): Promise<ExchangeAggregate[]>;
  /** The account's cursor, read consistently; version 0 and no cursor before its first pull. */
  getCursor(account: string): Promise<ExchangeCursor>;
  /** Claims the account until `untilMs` if it is still at `version` and no claim is live at `nowMs`; false otherwise. */
  claimCursor(account: string, version: number, untilMs: number, nowMs: number): Promise<boolean>;
  /** Sets the cursor, version + 1, and drops the claim, if it is still at `version`; false otherwise. */
  advanceCursor(account: string, cursor: string, version: number): Promise<boolean>;
  /** The account the next hourly pull starts at (the first one a run left unstarted); undefined: none recorded. */
  getPullStart(): Promise<string | undefined>;
  /** Records the account the next hourly pull starts at. */
  setPullStart(account: string): Promise<void>;
}
