import * as z from "zod/mini";
import { ExchangePermanentError } from "../../../core/errors";
import type { EndpointClass } from "../../../core/misuse/model";
import type { ExchangeActivityPage, ExchangeActivityRow } from "../../../core/ports/exchange";
import { oncePerOrder } from "../activity-rows";
import { parseStoredCursor } from "../activity-windows";
import { ACCOUNT_SUMMARY } from "./account-keys";
import type { DeribitAdminConfig } from "./admin-secret";
import { parse } from "./answers";
import { adminHint } from "./refusals";
import { type RpcContext, whereOf } from "./rpc";
import type { SecurityKeys } from "./security-keys";
import { accountSummarySchema } from "./wire";

/**
 * What Deribit reports about an account's use (docs/exchanges.md, Deribit, "What the exchange
 * reports about use"): `private/get_access_log` (logins, newest first, with IP and country) and
 * `private/get_transaction_log` per currency (fills, withdrawals, transfers, with the IP that
 * placed the trade). Neither names the API key: every row is "one of the account's keys".
 */

/** `get_access_log`: "maximum - 1000" a page. */
export const ACCESS_LOG_PAGE = 1000;
/** `get_transaction_log`: "default - 100, maximum - 250" a page. */
export const TRANSACTION_LOG_PAGE = 250;
/** Pages read a pull: past them the access log's older new rows are skipped (and said). */
const ACCESS_LOG_MAX_PAGES = 10;
/** Pages a currency a pull: past them the window's continuation is kept for the next pull. */
const TRANSACTION_LOG_MAX_PAGES = 8;
/** `get_transaction_log` "Sustained rate: 1 request/second": its own pace, inside the account's budget. */
const TRANSACTION_LOG_INTERVAL_MS = 1000;
/** A first pull reads this far back: the detector's novelty bootstrap learns from it. */
export const FIRST_PULL_LOOKBACK_MS = 24 * 3_600_000;
/** A transaction-log window ends this long before now, so a row written late is in the next one. */
export const SETTLE_MS = 5_000;
/** Currencies whose transaction logs are read (the method requires one); an adapter option. */
export const ACTIVITY_CURRENCIES = ["BTC", "ETH", "USDC", "USDT"] as const;

const accessLogSchema = z.object({
  records_total: z.optional(z.number()),
  data: z.array(
    z.object({
      id: z.number().check(z.int()),
      timestamp: z.number().check(z.nonnegative(), z.lte(8.64e15)),
      // The field list says `log`; the published example answers `result`: read either.
      log: z.optional(z.string()),
      result: z.optional(z.string()),
      ip: z.optional(z.nullable(z.string())),
      country: z.optional(z.nullable(z.string())),
    }),
  ),
});

const transactionLogSchema = z.object({
  logs: z.array(
    z.object({
      id: z.number(),
      timestamp: z.number().check(z.nonnegative(), z.lte(8.64e15)),
      type: z.string(),
      ip: z.optional(z.nullable(z.string())),
      order_id: z.optional(z.nullable(z.string())),
      instrument_name: z.optional(z.nullable(z.string())),
      change: z.optional(z.nullable(z.number())),
    }),
  ),
  continuation: z.optional(z.nullable(z.union([z.number(), z.string()]))),
});

const cursorSchema = z.object({
  v: z.literal(1),
  accessLogId: z.optional(z.number()),
  tx: z.record(
    z.string(),
    z.object({
      fromMs: z.number(),
      toMs: z.number(),
      continuation: z.optional(z.union([z.number(), z.string()])),
    }),
  ),
});
type Cursor = z.infer<typeof cursorSchema>;
type TxLog = z.infer<typeof transactionLogSchema>["logs"][number];

export interface DeribitActivityOptions {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  currencies?: readonly string[];
}

/**
 * Reads what is new since the cursor, signed with the admin key, after proving which account the
 * key manages (another account's log must never be judged as this one's).
 * 1. Access log: newest first from offset 0, page by page, until an id at or below the cursor's
 *    (ids grow with time) or, on a first pull, a row older than a day; `success` and `failure`
 *    logins are `account` requests. Key, 2FA, e-mail and password events are not use: skipped.
 * 2. Transaction log per currency: the window from the last one's end to a few seconds ago,
 *    following `continuation`, one request a second; a window cut by the page bound is resumed
 *    next pull. Fills count once per order; outgoing transfers and withdrawals once each.
 */
export class DeribitActivity {
  constructor(
    private readonly keys: SecurityKeys,
    private readonly opts: DeribitActivityOptions,
  ) {}

  async since(
    ctx: RpcContext,
    admin: DeribitAdminConfig,
    cursorText: string | undefined,
  ): Promise<ExchangeActivityPage> {
    const skipped: string[] = [];
    const cursor = readCursor(cursorText, skipped);
    await this.proveAccount(ctx, admin);
    const logins = await this.accessLog(ctx, admin, cursor.accessLogId, skipped);
    const rows = [...logins.rows];
    const tx: Cursor["tx"] = {};
    let first = true;
    for (const currency of this.opts.currencies ?? ACTIVITY_CURRENCIES) {
      const read = await this.transactionLog(ctx, admin, currency, cursor.tx[currency], first);
      first = false;
      rows.push(...read.rows);
      tx[currency] = read.window;
    }
    const next: Cursor = { v: 1, ...(logins.maxId !== undefined ? { accessLogId: logins.maxId } : {}), tx };
    return { rows, cursor: JSON.stringify(next), ...(skipped.length > 0 ? { skipped } : {}) };
  }

  private async proveAccount(ctx: RpcContext, admin: DeribitAdminConfig): Promise<void> {
    const summary = await this.keys.call(
      ctx,
      admin,
      "private/get_account_summary",
      ACCOUNT_SUMMARY,
      adminHint,
    );
    const who = parse(ctx, accountSummarySchema, summary);
    if (who.id !== admin.accountId) {
      throw new ExchangePermanentError(
        `${whereOf(ctx)}: the admin key belongs to Deribit account ${who.id}, not ${admin.accountId} as the admin secret says; its logs are not this account's`,
      );
    }
  }

  private async accessLog(
    ctx: RpcContext,
    admin: DeribitAdminConfig,
    seen: number | undefined,
    skipped: string[],
  ): Promise<{ rows: ExchangeActivityRow[]; maxId: number | undefined }> {
    const floorMs = this.opts.now() - FIRST_PULL_LOOKBACK_MS;
    const rows: ExchangeActivityRow[] = [];
    const ids = new Set<number>();
    let maxId = seen;
    for (let page = 0; page < ACCESS_LOG_MAX_PAGES; page++) {
      const params = { offset: page * ACCESS_LOG_PAGE, count: ACCESS_LOG_PAGE };
      const answer = parse(
        ctx,
        accessLogSchema,
        await this.keys.call(ctx, admin, "private/get_access_log", params, adminHint),
      );
      let reachedOld = false;
      for (const entry of answer.data) {
        const old = seen !== undefined ? entry.id <= seen : entry.timestamp < floorMs;
        // New rows shift the offsets between pages: a row read twice is counted once.
        if (old || ids.has(entry.id)) {
          reachedOld ||= old;
          continue;
        }
        ids.add(entry.id);
        maxId = Math.max(maxId ?? entry.id, entry.id);
        const row = loginRow(entry);
        if (row) rows.push(row);
      }
      const end =
        answer.data.length < ACCESS_LOG_PAGE ||
        params.offset + ACCESS_LOG_PAGE >= (answer.records_total ?? Infinity);
      if (reachedOld || end) return { rows, maxId };
    }
    skipped.push(
      `access log: more than ${ACCESS_LOG_MAX_PAGES * ACCESS_LOG_PAGE} new entries in one pull; the older ones were not read`,
    );
    return { rows, maxId };
  }

  private async transactionLog(
    ctx: RpcContext,
    admin: DeribitAdminConfig,
    currency: string,
    last: Cursor["tx"][string] | undefined,
    first: boolean,
  ): Promise<{ rows: ExchangeActivityRow[]; window: Cursor["tx"][string] }> {
    const now = this.opts.now();
    const window =
      last?.continuation !== undefined
        ? { fromMs: last.fromMs, toMs: last.toMs }
        : { fromMs: last ? last.toMs + 1 : now - FIRST_PULL_LOOKBACK_MS, toMs: now - SETTLE_MS };
    let continuation = last?.continuation;
    const logs: TxLog[] = [];
    if (window.toMs < window.fromMs) return { rows: [], window: last ?? window };
    for (let page = 0; page < TRANSACTION_LOG_MAX_PAGES; page++) {
      if (!(first && page === 0)) await this.opts.sleep(TRANSACTION_LOG_INTERVAL_MS);
      const params = {
        currency,
        start_timestamp: window.fromMs,
        end_timestamp: window.toMs,
        count: TRANSACTION_LOG_PAGE,
        ...(continuation !== undefined ? { continuation } : {}),
      };
      const answer = parse(
        ctx,
        transactionLogSchema,
        await this.keys.call(ctx, admin, "private/get_transaction_log", params, adminHint),
      );
      logs.push(...answer.logs);
      continuation = answer.continuation ?? undefined;
      if (continuation === undefined || answer.logs.length === 0)
        return { rows: transactionRows(logs), window };
    }
    return {
      rows: transactionRows(logs),
      window: { ...window, continuation: continuation as number | string },
    };
  }
}

function readCursor(text: string | undefined, skipped: string[]): Cursor {
  return parseStoredCursor(text, cursorSchema, () => ({ v: 1, tx: {} }), skipped);
}

function loginRow(entry: z.infer<typeof accessLogSchema>["data"][number]): ExchangeActivityRow | undefined {
  const what = entry.log ?? entry.result;
  // A failed login is a request the exchange answered, as a consumer's wrapFetch counts it too.
  if (what !== "success" && what !== "failure") return undefined;
  return {
    atMs: entry.timestamp,
    endpointClass: "account",
    count: 1,
    ...(entry.ip ? { ip: entry.ip } : {}),
    ...(entry.country ? { country: entry.country } : {}),
  };
}

/** Spot pairs are named `BASE_QUOTE` (`BTC_USDC`); futures and options carry a `-`. */
const SPOT_INSTRUMENT = /^[A-Z0-9]+_[A-Z0-9]+$/;

/**
 * Fills count once per order (one request placed it, however many fills it made); withdrawals
 * and outgoing transfers once each. Settlements, deliveries, deposits, incoming transfers, swaps
 * and corrections are the exchange's or another account's doing, not a request by a key.
 */
export function transactionRows(logs: readonly TxLog[]): ExchangeActivityRow[] {
  return oncePerOrder(logs, (log) => ({
    atMs: log.timestamp,
    endpointClass: classOf(log),
    order: log.order_id || undefined,
    ip: log.ip ?? undefined,
  }));
}

function classOf(log: TxLog): EndpointClass | undefined {
  switch (log.type) {
    case "trade":
      return SPOT_INSTRUMENT.test(log.instrument_name ?? "") ? "spot" : "derivatives";
    case "withdrawal":
      return "withdrawal";
    case "transfer":
      return (log.change ?? -1) < 0 ? "transfer" : undefined;
    default:
      return undefined;
  }
}
