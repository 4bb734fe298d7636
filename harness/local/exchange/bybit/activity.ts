import { randomUUID } from "node:crypto";
import { BybitSimError, paramError, permissionDenied } from "./errors";
import type { BybitStore, SimKey } from "./store";

/**
 * What the simulated Bybit records about use, served as Bybit serves it: each order a key places
 * (`POST /v5/order/create`, filled at once, one `Trade` execution on the key's own UID) in
 * `GET /v5/execution/list`, and universal transfers (seeded: the simulator moves no funds) in
 * `GET /v5/asset/transfer/query-universal-transfer-list`. Both refuse a window past 7 days with
 * 181010, answer the caller's own UID's rows only (a master's key reads its transfers and its
 * sub-accounts'; never their executions), newest first, paged by a percent-encoded cursor.
 */

/** "The time range between startTime and endTime cannot exceed 7 days" (docs/v5/error.mdx). */
export const RET_WINDOW = 181010;
/** "Parameter startTime needs to be smaller than endTime". */
export const RET_START_AFTER_END = 181009;
const WEEK_MS = 7 * 24 * 3_600_000;
const CATEGORIES = ["linear", "inverse", "spot", "option"];
/** The group and permission a key needs to trade each category (create-sub-api's catalogue). */
const TRADE_PERMISSION: Record<string, [string, string]> = {
  linear: ["ContractTrade", "Order"],
  inverse: ["ContractTrade", "Order"],
  spot: ["Spot", "SpotTrade"],
  option: ["Options", "OptionsTrade"],
};

interface Execution {
  uid: string;
  category: string;
  symbol: string;
  orderId: string;
  execId: string;
  side: string;
  execQty: string;
  execPrice: string;
  execType: string;
  execTime: number;
}

interface Transfer {
  transferId: string;
  coin: string;
  amount: string;
  fromMemberId: string;
  toMemberId: string;
  fromAccountType: string;
  toAccountType: string;
  timestamp: number;
  status: string;
}

export class BybitActivityBook {
  private readonly executions: Execution[] = [];
  private readonly transfers: Transfer[] = [];

  constructor(private readonly store: BybitStore) {}

  /** `POST /v5/order/create` by `caller`: a read-write key with the category's trade permission. */
  placeOrder(caller: SimKey, body: Record<string, unknown>) {
    const category = body.category;
    if (typeof category !== "string" || !CATEGORIES.includes(category)) throw paramError("Illegal category");
    for (const field of ["symbol", "side", "orderType", "qty"]) {
      if (typeof body[field] !== "string" || body[field] === "") throw paramError(`${field} is required`);
    }
    const [group, permission] = TRADE_PERMISSION[category] as [string, string];
    if (caller.readOnly || !(caller.permissions[group] ?? []).includes(permission)) {
      throw permissionDenied("Permission denied, please check your API key permissions.");
    }
    const orderId = randomUUID();
    this.executions.push({
      uid: caller.uid,
      category,
      symbol: body.symbol as string,
      orderId,
      execId: randomUUID(),
      side: body.side as string,
      execQty: body.qty as string,
      execPrice: typeof body.price === "string" ? body.price : "100",
      execType: "Trade",
      execTime: this.store.now(),
    });
    return { orderId, orderLinkId: typeof body.orderLinkId === "string" ? body.orderLinkId : "" };
  }

  /** A row of another execution type (`Funding`, `Settle`, …) or time, for tests. */
  recordExecution(
    uid: string,
    input: { category: string; execType?: string; atMs?: number; orderId?: string },
  ) {
    this.executions.push({
      uid,
      category: input.category,
      symbol: "BTCUSDT",
      orderId: input.orderId ?? randomUUID(),
      execId: randomUUID(),
      side: "Buy",
      execQty: "1",
      execPrice: "100",
      execType: input.execType ?? "Trade",
      execTime: input.atMs ?? this.store.now(),
    });
  }

  /** A universal transfer between two UIDs, at the second (Bybit's list is second-grained). */
  recordTransfer(input: { fromUid: string; toUid: string; coin?: string; amount?: string; atMs?: number }) {
    const at = input.atMs ?? this.store.now();
    this.transfers.push({
      transferId: `universalTransfer_${randomUUID()}`,
      coin: input.coin ?? "USDT",
      amount: input.amount ?? "1",
      fromMemberId: input.fromUid,
      toMemberId: input.toUid,
      fromAccountType: "UNIFIED",
      toAccountType: "UNIFIED",
      timestamp: Math.floor(at / 1000) * 1000,
      status: "SUCCESS",
    });
  }

  /** `GET /v5/execution/list`: the caller's own UID, one category, a window of at most 7 days. */
  executionList(caller: SimKey, query: URLSearchParams) {
    const category = query.get("category");
    if (!category || !CATEGORIES.includes(category)) throw paramError("Illegal category");
    const { fromMs, toMs } = windowOf(query, this.store.now());
    const rows = this.executions
      .filter(
        (e) => e.uid === caller.uid && e.category === category && e.execTime >= fromMs && e.execTime <= toMs,
      )
      .sort((a, b) => b.execTime - a.execTime);
    const { page, next } = paged(rows, query, 100, 50);
    return {
      category,
      list: page.map((e) => ({
        symbol: e.symbol,
        orderId: e.orderId,
        orderLinkId: "",
        side: e.side,
        orderPrice: e.execPrice,
        orderQty: e.execQty,
        leavesQty: "0",
        orderType: "Market",
        execFee: "0",
        execId: e.execId,
        execPrice: e.execPrice,
        execQty: e.execQty,
        execType: e.execType,
        execValue: "0",
        execTime: String(e.execTime),
        isMaker: false,
        feeRate: "0",
        seq: 1,
      })),
      nextPageCursor: next,
    };
  }

  /**
   * `GET /v5/asset/transfer/query-universal-transfer-list`: a master's key with SubMemberTransfer
   * reads its own and its sub-accounts' transfers; a sub-account's key with SubMemberTransferList
   * its own. Times count to the second ("effective based on second level").
   */
  transferList(caller: SimKey, query: URLSearchParams) {
    const wallet = caller.permissions.Wallet ?? [];
    if (!wallet.includes(caller.master ? "SubMemberTransfer" : "SubMemberTransferList")) {
      throw permissionDenied("Permission denied, please check your API key permissions.");
    }
    const { fromMs, toMs } = windowOf(query, this.store.now());
    const uids = new Set(
      caller.master ? [caller.uid, ...this.store.subAccountsOf(caller.uid).map((s) => s.uid)] : [caller.uid],
    );
    const from = Math.floor(fromMs / 1000) * 1000;
    const rows = this.transfers
      .filter(
        (t) =>
          (uids.has(t.fromMemberId) || uids.has(t.toMemberId)) && t.timestamp >= from && t.timestamp <= toMs,
      )
      .sort((a, b) => b.timestamp - a.timestamp);
    const { page, next } = paged(rows, query, 50, 20);
    return { list: page.map((t) => ({ ...t, timestamp: String(t.timestamp) })), nextPageCursor: next };
  }
}

/** The docs' rules: none → the last 7 days; one → 7 days from or to it; both → at most 7 days. */
function windowOf(query: URLSearchParams, now: number): { fromMs: number; toMs: number } {
  const time = (name: string) => {
    const raw = query.get(name);
    if (raw === null || raw === "") return undefined;
    if (!/^\d{1,16}$/.test(raw)) throw paramError(`${name} is not number`);
    return Number(raw);
  };
  const start = time("startTime");
  const end = time("endTime");
  if (start !== undefined && end !== undefined) {
    if (start > end)
      throw new BybitSimError(RET_START_AFTER_END, "Parameter startTime needs to be smaller than endTime");
    if (end - start > WEEK_MS)
      throw new BybitSimError(
        RET_WINDOW,
        "The time range between startTime and endTime cannot exceed 7 days",
      );
    return { fromMs: start, toMs: end };
  }
  if (start !== undefined) return { fromMs: start, toMs: start + WEEK_MS };
  if (end !== undefined) return { fromMs: end - WEEK_MS, toMs: end };
  return { fromMs: now - WEEK_MS, toMs: now };
}

/** `limit` in [1, max], a cursor handed out percent-encoded (sent back verbatim, decoded once here). */
function paged<T>(rows: T[], query: URLSearchParams, max: number, fallback: number) {
  const raw = query.get("limit");
  const limit = raw === null || raw === "" ? fallback : /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= 1 && limit <= max)) throw paramError(`limit must be an integer in [1, ${max}]`);
  const cursor = query.get("cursor");
  let offset = 0;
  if (cursor) {
    const match = /^offset=(\d{1,9})$/.exec(cursor);
    if (!match) throw paramError("invalid cursor");
    offset = Number(match[1]);
  }
  const page = rows.slice(offset, offset + limit);
  const next = offset + limit < rows.length ? encodeURIComponent(`offset=${offset + limit}`) : "";
  return { page, next };
}
