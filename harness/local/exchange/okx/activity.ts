import { randomInt } from "node:crypto";
import { CODE, OkxSimError, paramEmpty, paramError } from "./errors";
import type { OkxStore, SimKey } from "./store";

/**
 * What the simulated OKX records about use, served as OKX serves it: each order a key places
 * (`POST /api/v5/trade/order`, filled at once) as a fill of the key's own account in
 * `GET /api/v5/trade/fills` (the last 3 days only, newest first, paged by `billId`), and the
 * transfers between a sub-account and its master (seeded: the simulator moves no funds) in the
 * master-only `GET /api/v5/asset/subaccount/bills` (paged by creation time).
 */

/** `trade/fills`: "the last 3 day[s]". */
export const FILLS_RETENTION_MS = 3 * 24 * 3_600_000;
/** `trade/fills-history`: "the last 3 months" (90 days here). */
export const HISTORY_RETENTION_MS = 90 * 24 * 3_600_000;
const INST_TYPES = ["SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION", "EVENTS"];

interface Fill {
  uid: string;
  instType: string;
  instId: string;
  ordId: string;
  tradeId: string;
  billId: string;
  subType: string;
  side: string;
  fillSz: string;
  ts: number;
}

interface Bill {
  billId: string;
  ccy: string;
  amt: string;
  subAcct: string;
  masterUid: string;
  type: "0" | "1";
  ts: number;
}

/** An instrument's type by its id's shape (`BTC-USDT`, `BTC-USDT-SWAP`, `BTC-USD-250328`, `…-C`). */
function instTypeOf(instId: string, tdMode: string): string {
  const parts = instId.split("-");
  if (parts.at(-1) === "SWAP") return "SWAP";
  if (parts.length === 5) return "OPTION";
  if (parts.length === 3) return "FUTURES";
  return tdMode === "cash" ? "SPOT" : "MARGIN";
}

export class OkxActivityBook {
  private readonly fills: Fill[] = [];
  private readonly bills: Bill[] = [];
  private nextBill = 600_000_000_000;

  constructor(private readonly store: OkxStore) {}

  /** `POST /api/v5/trade/order` by `caller`: a key with `trade`; filled at once. */
  placeOrder(caller: SimKey, body: Record<string, unknown>): unknown[] {
    for (const field of ["instId", "tdMode", "side", "ordType", "sz"]) {
      if (body[field] === undefined || body[field] === "") throw paramEmpty(field);
      if (typeof body[field] !== "string") throw paramError(field);
    }
    if (!caller.perm.includes("trade")) throw new OkxSimError("50030", "No permission to use this API");
    const ordId = String(randomInt(100_000_000_000, 999_999_999_999));
    const side = body.side as string;
    this.record(caller.uid, {
      instType: instTypeOf(body.instId as string, body.tdMode as string),
      instId: body.instId as string,
      ordId,
      subType: side === "buy" ? "1" : "2",
      side,
      fillSz: body.sz as string,
    });
    return [{ ordId, clOrdId: "", tag: "", ts: String(this.store.now()), sCode: "0", sMsg: "Order placed" }];
  }

  /** A fill of another kind (a liquidation's `subType`, an earlier time), for tests. */
  recordFill(uid: string, input: { instType?: string; subType?: string; atMs?: number; ordId?: string }) {
    this.record(uid, {
      instType: input.instType ?? "SWAP",
      instId: "BTC-USDT-SWAP",
      ordId: input.ordId ?? String(randomInt(100_000_000_000, 999_999_999_999)),
      subType: input.subType ?? "1",
      side: "buy",
      fillSz: "1",
      ...(input.atMs !== undefined ? { ts: input.atMs } : {}),
    });
  }

  /** A transfer between a sub-account and its master: `out` of the sub-account is type 1. */
  recordTransfer(sub: { name: string; masterUid: string }, direction: "out" | "in", atMs?: number) {
    this.bills.push({
      billId: String(this.nextBill++),
      ccy: "USDT",
      amt: "1",
      subAcct: sub.name,
      masterUid: sub.masterUid,
      type: direction === "out" ? "1" : "0",
      ts: atMs ?? this.store.now(),
    });
  }

  /**
   * `GET /api/v5/trade/fills`: the caller's own account's fills of the last 3 days; with
   * `history`, `GET /api/v5/trade/fills-history`: 3 months, `instType` required.
   */
  fillsOf(caller: SimKey, query: URLSearchParams, history = false): unknown[] {
    const instType = query.get("instType");
    if (history && !instType) throw paramEmpty("instType");
    if (instType && !INST_TYPES.includes(instType)) throw paramError("instType");
    const begin = optionalNumber(query, "begin");
    const end = optionalNumber(query, "end");
    const after = optionalNumber(query, "after");
    const before = optionalNumber(query, "before");
    const floor = this.store.now() - (history ? HISTORY_RETENTION_MS : FILLS_RETENTION_MS);
    return this.fills
      .filter(
        (f) =>
          f.uid === caller.uid &&
          f.ts >= floor &&
          (!instType || f.instType === instType) &&
          (begin === undefined || f.ts >= begin) &&
          (end === undefined || f.ts <= end) &&
          (after === undefined || Number(f.billId) < after) &&
          (before === undefined || Number(f.billId) > before),
      )
      .sort((a, b) => Number(b.billId) - Number(a.billId))
      .slice(0, limitOf(query))
      .map(({ uid: _uid, ts, ...f }) => ({
        ...f,
        clOrdId: "",
        tag: "",
        fillPx: "100",
        posSide: "net",
        execType: "T",
        feeCcy: "USDT",
        fee: "0",
        fillTime: String(ts),
        ts: String(ts),
      }));
  }

  /** `GET /api/v5/asset/subaccount/bills`: master accounts only; `after`/`before` are times, exclusive. */
  subAccountBills(caller: SimKey, query: URLSearchParams): unknown[] {
    if (!caller.master)
      throw new OkxSimError(CODE.masterOnly, "Only the APIKey of the main account has permission");
    const subAcct = query.get("subAcct");
    if (subAcct) this.store.ownedSub(caller.uid, subAcct);
    const type = query.get("type");
    if (type && type !== "0" && type !== "1") throw paramError("type");
    const after = optionalNumber(query, "after");
    const before = optionalNumber(query, "before");
    return this.bills
      .filter(
        (b) =>
          b.masterUid === caller.uid &&
          (!subAcct || b.subAcct === subAcct) &&
          (!type || b.type === type) &&
          (after === undefined || b.ts < after) &&
          (before === undefined || b.ts > before),
      )
      .sort((a, b) => b.ts - a.ts)
      .slice(0, limitOf(query))
      .map(({ masterUid: _m, ts, ...b }) => ({ ...b, ts: String(ts) }));
  }

  private record(uid: string, fill: Omit<Fill, "uid" | "tradeId" | "billId" | "ts"> & { ts?: number }) {
    const billId = String(this.nextBill++);
    this.fills.push({
      uid,
      tradeId: String(randomInt(1, 999_999_999)),
      billId,
      ts: this.store.now(),
      ...fill,
    });
  }
}

/** "The maximum is 100. The default is 100." */
function limitOf(query: URLSearchParams): number {
  const raw = query.get("limit");
  if (raw === null || raw === "") return 100;
  const limit = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= 1 && limit <= 100)) throw paramError("limit");
  return limit;
}

function optionalNumber(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^\d{1,19}$/.test(raw)) throw paramError(name);
  return Number(raw);
}
