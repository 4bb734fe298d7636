import * as z from "zod/mini";
import { ExchangePermanentError } from "../../../core/errors";
import type { EndpointClass } from "../../../core/misuse/model";
import type { ExchangeActivityPage, ExchangeActivityRow } from "../../../core/ports/exchange";
import { oncePerOrder } from "../activity-rows";
import { readStream, readStreamsCursor, type Stream, type StreamsCursor } from "../activity-windows";
import { scrub } from "../http";
import type { OkxConfig } from "./admin-secret";
import { type CallContext, type OkxClient, type OkxSigner, parseData, where } from "./client";
import { listSubKeys } from "./listing";
import { normalizeScope, PERM_READ } from "./scope";

/**
 * What OKX reports about a sub-account's use (docs/exchanges.md, OKX, "What the exchange reports
 * about use"). Fills (`GET /api/v5/trade/fills`, the last 3 days) are the calling key's own
 * account's only: the master cannot read them, so they are read with the sub-account's read-only
 * **observer** key (and its passphrase) when the admin secret holds one. Transfers between the
 * sub-account and its master are read with the master key (`GET /api/v5/asset/subaccount/bills`,
 * "only available for master accounts"). A common sub-account cannot withdraw. No row names a key.
 */

/** `trade/fills`: "recently-filled transaction details in the last 3 day[s]". */
export const FILLS_RETENTION_MS = 3 * 24 * 3_600_000;
/** `trade/fills-history`: "data from the last 3 months" (read as 90 days). */
export const HISTORY_RETENTION_MS = 90 * 24 * 3_600_000;
/** `trade/fills-history` requires `instType`: every type a key can trade. */
export const INST_TYPES = ["SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS"] as const;
/** A stream stops this far inside an endpoint's retention, so its oldest rows are still served. */
const RETENTION_MARGIN_MS = 60_000;
/** `trade/fills` and `subaccount/bills` `limit`: "The maximum is 100". */
export const PAGE = 100;
/** The bills endpoint sets no window; this one bounds a catch-up pull's pages per request run. */
const BILLS_WINDOW_MS = 7 * 24 * 3_600_000;
const MAX_PAGES = 10;
const MAX_WINDOWS = 4;

const fillSchema = z.looseObject({
  instType: z.string(),
  ordId: z.string(),
  tradeId: z.string(),
  billId: z.string(),
  subType: z.string(),
  ts: z.string().check(z.regex(/^\d{1,16}$/)),
});
type Fill = z.infer<typeof fillSchema>;

const billSchema = z.looseObject({
  billId: z.string(),
  subAcct: z.string(),
  type: z.string(),
  ts: z.string().check(z.regex(/^\d{1,16}$/)),
});
type Bill = z.infer<typeof billSchema>;

export interface OkxActivityDeps {
  client: OkxClient;
  now: () => number;
}

/**
 * Reads what is new since the cursor.
 * 1. Without an observer key: fills are not read, and `skipped` says so. With one: prove with the
 *    master's listing that it is a key of this sub-account and read-only, then read its fills
 *    (every instrument type in one stream), never further back than OKX serves them (3 days: a
 *    gap older than that is said in `skipped`); fills count once per order (`spot`, `margin`,
 *    `derivatives` by `instType`); liquidations, ADL, deliveries, expiries and OKX's automatic
 *    conversions and borrowings are not a request.
 * 2. With the master key: the sub-account's transfer bills; one from the sub-account to the
 *    master (`type` 1) is a `transfer`.
 */
export async function okxActivity(
  deps: OkxActivityDeps,
  cfg: OkxConfig,
  ctx: CallContext,
  master: OkxSigner,
  cursorText: string | undefined,
): Promise<ExchangeActivityPage> {
  const skipped: string[] = [];
  const cursor = readStreamsCursor(cursorText, skipped);
  const next: StreamsCursor = { v: 1, streams: {} };
  const rows: ExchangeActivityRow[] = [];
  const now = deps.now();
  if (cfg.observer) {
    await proveObserver(deps.client, ctx, master, cfg.observer.apiKey);
    const observer: OkxSigner = {
      ...master,
      apiKey: cfg.observer.apiKey,
      secretKey: cfg.observer.secretKey,
      passphrase: cfg.observer.passphrase,
    };
    rows.push(...fillRows(await readFills(deps.client, ctx, observer, cursor, next, now, skipped)));
  } else {
    skipped.push('fills: no observer key in the admin secret ("observer"); fills are not read');
  }
  const bills = await readStream(transfers(deps.client, ctx, master), cursor.streams.transfers, now, skipped);
  rows.push(...transferRows(bills.rows, cfg.subAcct));
  next.streams.transfers = bills.state;
  return { rows, cursor: JSON.stringify(next), ...(skipped.length > 0 ? { skipped } : {}) };
}

/** The master's own listing of this sub-account must hold the observer, with `read_only` alone. */
async function proveObserver(client: OkxClient, ctx: CallContext, master: OkxSigner, apiKey: string) {
  const [listed] = await listSubKeys(client, ctx, master, apiKey);
  const fault = !listed
    ? `is not a key of sub-account ${ctx.subAcct}`
    : normalizeScope(listed.perm).join() !== PERM_READ
      ? "is not read-only: an observer may only read (make a read-only key for it)"
      : undefined;
  if (fault) {
    throw new ExchangePermanentError(
      scrub(`${where(ctx)}: the observer key ${apiKey} ${fault}; nothing was read`, ctx.secrets),
    );
  }
}

/**
 * The observer's fills since the cursor: `trade/fills` for the last 3 days; a cursor further
 * behind (the pull did not run for days) first catches up with `trade/fills-history` per
 * instrument type up to where `trade/fills` begins, over as many pulls as its page bounds need,
 * and only then moves on (what is older than 3 months is said in `skipped`).
 */
async function readFills(
  client: OkxClient,
  ctx: CallContext,
  observer: OkxSigner,
  cursor: StreamsCursor,
  next: StreamsCursor,
  now: number,
  skipped: string[],
): Promise<Fill[]> {
  const last = cursor.streams.fills;
  const floor = now - FILLS_RETENTION_MS + RETENTION_MARGIN_MS;
  const rows: Fill[] = [];
  if (last && last.page === undefined && last.toMs + 1 < floor) {
    let done = true;
    for (const instType of INST_TYPES) {
      const name = `history:${instType}`;
      const state = cursor.streams[name] ?? last;
      const stream = { ...fills(client, ctx, observer, instType), untilMs: floor - 1 };
      const read = await readStream(stream, state, now, skipped);
      rows.push(...read.rows);
      next.streams[name] = read.state;
      done &&= read.state.page === undefined && read.state.toMs >= floor - 1;
    }
    if (!done) {
      next.streams.fills = last;
      return rows;
    }
    for (const instType of INST_TYPES) delete next.streams[`history:${instType}`];
    const caughtUp = { fromMs: last.fromMs, toMs: floor - 1 };
    const read = await readStream(fills(client, ctx, observer), caughtUp, now, skipped);
    next.streams.fills = read.state;
    return [...rows, ...read.rows];
  }
  const read = await readStream(fills(client, ctx, observer), last, now, skipped);
  next.streams.fills = read.state;
  return read.rows;
}

/** `trade/fills` (the last 3 days), or with `instType` `trade/fills-history` (3 months). */
function fills(client: OkxClient, ctx: CallContext, observer: OkxSigner, instType?: string): Stream<Fill> {
  const retentionMs = instType ? HISTORY_RETENTION_MS : FILLS_RETENTION_MS;
  return {
    label: instType ? `fills history (${instType})` : "fills",
    maxWindowMs: retentionMs,
    retentionMs,
    maxPages: MAX_PAGES,
    maxWindows: 1,
    read: async (window, page) => {
      // Whether `begin`/`end` include their bound is not published: ask a millisecond wider and
      // keep the window's rows by their own `ts`. Newest first; `after` pages to older bills.
      const path = instType ? "/api/v5/trade/fills-history" : "/api/v5/trade/fills";
      const answer = await client.call(ctx, observer, "GET", path, {
        instType,
        begin: String(window.fromMs - 1),
        end: String(window.toMs + 1),
        limit: String(PAGE),
        after: page,
      });
      const list = parseData(ctx, fillSchema, answer);
      const last = list.at(-1);
      return { rows: list, next: list.length >= PAGE && last ? last.billId : undefined };
    },
    timeOf: (f) => Number(f.ts),
    idOf: (f) => f.billId,
  };
}

function transfers(client: OkxClient, ctx: CallContext, master: OkxSigner): Stream<Bill> {
  return {
    label: "sub-account transfers",
    maxWindowMs: BILLS_WINDOW_MS,
    maxPages: MAX_PAGES,
    maxWindows: MAX_WINDOWS,
    read: async (window, page) => {
      // `after`/`before` are creation times, exclusive: a page ends at its oldest row's time, and
      // the next asks before that time + 1 (rows of that millisecond come twice, counted once).
      const answer = await client.call(ctx, master, "GET", "/api/v5/asset/subaccount/bills", {
        subAcct: ctx.subAcct,
        before: String(window.fromMs - 1),
        after: page ?? String(window.toMs + 1),
        limit: String(PAGE),
      });
      const list = parseData(ctx, billSchema, answer);
      const last = list.at(-1);
      return { rows: list, next: list.length >= PAGE && last ? String(Number(last.ts) + 1) : undefined };
    },
    timeOf: (b) => Number(b.ts),
    idOf: (b) => b.billId,
  };
}

/**
 * `subType`s that are OKX's doing, not an order a key placed: liquidations (100–107, 110, 111),
 * deliveries (112, 113), system conversions (118, 119), ADL (125–128), quick-margin auto borrow and
 * repay (212, 213), collateralized-borrowing auto conversions (376, 377), event expiries (414, 415).
 */
const SYSTEM_SUBTYPES = new Set(
  [100, 101, 102, 103, 104, 105, 106, 107, 110, 111, 112, 113, 118, 119, 125, 126, 127, 128]
    .concat([212, 213, 376, 377, 414, 415])
    .map(String),
);

function classOf(instType: string): EndpointClass {
  if (instType === "SPOT") return "spot";
  if (instType === "MARGIN") return "margin";
  return "derivatives";
}

/** One row per order (block trades have no `ordId`: one per trade), oldest first. */
export function fillRows(list: readonly Fill[]): ExchangeActivityRow[] {
  return oncePerOrder(list, (f) => ({
    atMs: Number(f.ts),
    endpointClass: SYSTEM_SUBTYPES.has(f.subType) ? undefined : classOf(f.instType),
    order: f.ordId ? `o:${f.ordId}` : `t:${f.tradeId}`,
  }));
}

/** Transfers from the sub-account to the master, one each (type 0, into it, is the master's doing). */
export function transferRows(list: readonly Bill[], subAcct: string): ExchangeActivityRow[] {
  return list
    .filter((b) => b.subAcct === subAcct && b.type === "1")
    .map((b) => ({ atMs: Number(b.ts), endpointClass: "transfer" as const, count: 1 }));
}
