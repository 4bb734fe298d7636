import type { EndpointClass } from "../../core/misuse/model";
import type { ExchangeActivityRow } from "../../core/ports/exchange";

/** What one exchange history row says: when, which class (undefined: not a request of the account's), which order. */
export interface HistoryRowFacts {
  atMs: number;
  endpointClass: EndpointClass | undefined;
  /** The order the row belongs to; undefined: the row is its own request (a withdrawal, a block trade). */
  order?: string | undefined;
  ip?: string | undefined;
}

/**
 * One activity row per request, oldest first: an order's fills count once (one request placed it,
 * however many fills it made); rows that are the exchange's doing (funding, liquidation…) none.
 */
export function oncePerOrder<T>(
  list: readonly T[],
  facts: (item: T) => HistoryRowFacts,
): ExchangeActivityRow[] {
  const rows: ExchangeActivityRow[] = [];
  const orders = new Set<string>();
  for (const f of list.map(facts).sort((a, b) => a.atMs - b.atMs)) {
    if (!f.endpointClass) continue;
    if (f.order !== undefined) {
      if (orders.has(f.order)) continue;
      orders.add(f.order);
    }
    rows.push({ atMs: f.atMs, endpointClass: f.endpointClass, count: 1, ...(f.ip ? { ip: f.ip } : {}) });
  }
  return rows;
}
