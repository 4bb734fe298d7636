import * as z from "zod/mini";
import { ExchangePermanentError } from "../../../core/errors";
import type { ExchangeActivityPage, ExchangeActivityRow } from "../../../core/ports/exchange";
import { oncePerOrder } from "../activity-rows";
import { readStream, readStreamsCursor, type Stream, type StreamsCursor } from "../activity-windows";
import { scrub } from "../http";
import type { BybitConfig } from "./admin-secret";
import { type BybitClient, type BybitSigner, type CallContext, parseResult, where } from "./client";
import { keyInfoSchema } from "./wire";

/**
 * What Bybit reports about a sub-account's use (docs/exchanges.md, Bybit, "What the exchange
 * reports about use"). Executions (`GET /v5/execution/list`) are the calling key's own account's
 * only: the master cannot read them, so they are read with the sub-account's read-only
 * **observer** key, when the admin secret holds one. Transfers out of the sub-account are read
 * with the master key (`GET /v5/asset/transfer/query-universal-transfer-list`, which a master
 * with SubMemberTransfer may read for its sub-accounts). A sub-account cannot withdraw ("Request
 * by the master UID's api key only"). No row names a key.
 */

/** `execution/list` and the universal-transfer list: "endTime - startTime <= 7 days". */
export const WINDOW_MAX_MS = 7 * 24 * 3_600_000;
/** `execution/list` `limit` "[1, 100]". */
export const EXECUTION_PAGE = 100;
/** Universal-transfer list `limit` "[1, 50]". */
export const TRANSFER_PAGE = 50;
/** `execution/list` `category` (required): every product a key can trade. */
export const CATEGORIES = ["linear", "inverse", "spot", "option"] as const;
const MAX_PAGES = 10;
/** Four 7-day windows a pull: a cursor a month behind catches up over a few hourly runs. */
const MAX_WINDOWS = 4;

const executionPageSchema = z.looseObject({
  list: z.array(
    z.looseObject({
      orderId: z.string(),
      execId: z.string(),
      execType: z.string(),
      execTime: z.string().check(z.regex(/^\d{1,16}$/)),
    }),
  ),
  nextPageCursor: z.optional(z.string()),
});
type Execution = z.infer<typeof executionPageSchema>["list"][number] & { category: string };

const transferPageSchema = z.looseObject({
  list: z.array(
    z.looseObject({
      transferId: z.string(),
      fromMemberId: z.string(),
      toMemberId: z.string(),
      timestamp: z.string().check(z.regex(/^\d{1,16}$/)),
      status: z.optional(z.string()),
    }),
  ),
  nextPageCursor: z.optional(z.string()),
});
type Transfer = z.infer<typeof transferPageSchema>["list"][number];

export interface BybitActivityDeps {
  client: BybitClient;
  now: () => number;
}

/**
 * Reads what is new since the cursor.
 * 1. Without an observer key: executions are not read, and `skipped` says so. With one: prove it
 *    is a read-only key of this sub-account (`GET /v5/user/query-api` signed by it), then read
 *    each category's executions in 7-day windows; executions of an order count once per order
 *    (`spot` for the spot category, `derivatives` otherwise); funding, settlement, delivery,
 *    liquidation and ADL executions are Bybit's doing, not a request.
 * 2. With the master key: the universal-transfer list in 7-day windows; a transfer FROM the
 *    sub-account is a `transfer` (one into it is another account's doing).
 */
export async function bybitActivity(
  deps: BybitActivityDeps,
  cfg: BybitConfig,
  ctx: CallContext,
  master: BybitSigner,
  cursorText: string | undefined,
): Promise<ExchangeActivityPage> {
  const skipped: string[] = [];
  const cursor = readStreamsCursor(cursorText, skipped);
  const next: StreamsCursor = { v: 1, streams: {} };
  const rows: ExchangeActivityRow[] = [];
  const now = deps.now();
  if (cfg.observer) {
    const observer: BybitSigner = { ...master, apiKey: cfg.observer.apiKey, secret: cfg.observer.apiSecret };
    await proveObserver(deps.client, ctx, cfg, observer);
    for (const category of CATEGORIES) {
      const name = `exec:${category}`;
      const read = await readStream(
        executions(deps.client, ctx, observer, category),
        cursor.streams[name],
        now,
        skipped,
      );
      rows.push(...executionRows(read.rows));
      next.streams[name] = read.state;
    }
  } else {
    skipped.push('executions: no observer key in the admin secret ("observer"); executions are not read');
  }
  const transfer = await readStream(
    transfers(deps.client, ctx, master),
    cursor.streams.transfer,
    now,
    skipped,
  );
  rows.push(...transferRows(transfer.rows, cfg.subuid));
  next.streams.transfer = transfer.state;
  return { rows, cursor: JSON.stringify(next), ...(skipped.length > 0 ? { skipped } : {}) };
}

/** The observer must be this sub-account's key, and read-only: it is stored, never rotated. */
async function proveObserver(client: BybitClient, ctx: CallContext, cfg: BybitConfig, observer: BybitSigner) {
  const info = parseResult(ctx, keyInfoSchema, await client.call(ctx, observer, "GET", "/v5/user/query-api"));
  const fault =
    info.apiKey !== observer.apiKey || String(info.userID) !== cfg.subuid || info.isMaster
      ? `is key ${info.apiKey} of ${info.isMaster ? "master" : "sub"} account ${info.userID}, not a key of sub-account ${cfg.subuid}`
      : info.readOnly !== 1
        ? "is not read-only: an observer may only read (make a read-only key for it)"
        : undefined;
  if (fault) {
    throw new ExchangePermanentError(
      scrub(`${where(ctx)}: the observer key ${fault}; nothing was read`, ctx.secrets),
    );
  }
}

function executions(
  client: BybitClient,
  ctx: CallContext,
  observer: BybitSigner,
  category: string,
): Stream<Execution> {
  return {
    label: `executions (${category})`,
    maxWindowMs: WINDOW_MAX_MS,
    maxPages: MAX_PAGES,
    maxWindows: MAX_WINDOWS,
    read: async (window, page) => {
      const answer = await client.call(ctx, observer, "GET", "/v5/execution/list", {
        category,
        startTime: window.fromMs,
        endTime: window.toMs,
        limit: EXECUTION_PAGE,
        cursor: page,
      });
      const body = parseResult(ctx, executionPageSchema, answer);
      return { rows: body.list.map((e) => ({ ...e, category })), next: body.nextPageCursor || undefined };
    },
    timeOf: (e) => Number(e.execTime),
    idOf: (e) => `${e.category}:${e.execId}`,
  };
}

function transfers(client: BybitClient, ctx: CallContext, master: BybitSigner): Stream<Transfer> {
  return {
    label: "universal transfers",
    maxWindowMs: WINDOW_MAX_MS,
    maxPages: MAX_PAGES,
    maxWindows: MAX_WINDOWS,
    read: async (window, page) => {
      // "The query logic is actually effective based on second level": ask from the window's
      // second; rows before the window are dropped by their own time.
      const answer = await client.call(
        ctx,
        master,
        "GET",
        "/v5/asset/transfer/query-universal-transfer-list",
        {
          startTime: Math.floor(window.fromMs / 1000) * 1000,
          endTime: window.toMs,
          limit: TRANSFER_PAGE,
          cursor: page,
        },
      );
      const body = parseResult(ctx, transferPageSchema, answer);
      return { rows: body.list, next: body.nextPageCursor || undefined };
    },
    timeOf: (t) => Number(t.timestamp),
    idOf: (t) => t.transferId,
  };
}

/**
 * Execution types that are a request of the account's: an order it placed, a spread order's leg,
 * a block trade it took. `AdlTrade`, `Funding`, `BustTrade`, `Delivery`, `Settle`, `MovePosition`
 * and `CorporateAction` are Bybit's (or the master's) doing (docs `v5/enum.mdx` `execType`).
 */
const PLACED = new Set(["Trade", "FutureSpread", "BlockTrade"]);

/** One row per order (one request placed it, however many fills it made), oldest first. */
export function executionRows(list: readonly Execution[]): ExchangeActivityRow[] {
  return oncePerOrder(list, (e) => ({
    atMs: Number(e.execTime),
    endpointClass: !PLACED.has(e.execType) ? undefined : e.category === "spot" ? "spot" : "derivatives",
    order: e.orderId ? `${e.category}:${e.orderId}` : undefined,
  }));
}

/** Transfers out of the sub-account, one each; the master's list also holds its other sub-accounts'. */
export function transferRows(list: readonly Transfer[], subuid: string): ExchangeActivityRow[] {
  return list
    .filter((t) => t.fromMemberId === subuid)
    .map((t) => ({ atMs: Number(t.timestamp), endpointClass: "transfer" as const, count: 1 }));
}
