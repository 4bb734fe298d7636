import { bybitSignedHeaders, DEFAULT_RECV_WINDOW_MS } from "../../../../src/adapters/exchange/bybit/signing";
import { resolveUrl } from "../../../../src/adapters/exchange/http";

export interface TradingCallResult {
  /** HTTP 200 and retCode 0: the key authenticated. */
  ok: boolean;
  status: number;
  /** Bybit's retCode when the answer had the envelope (10003 for a removed key, 10004 for a wrong secret). */
  retCode?: number;
}

/**
 * The read-only call a trading service makes with its key (`GET /v5/user/query-api`, which any
 * key may call), so the local consumers can prove a removed key is refused; the simulator's
 * request log records which key each call used. Signed like every Bybit call; the secret never
 * leaves this function.
 */
export async function tradingCall(
  endpoint: string,
  key: { keyId: string; secret: string },
  opts: { timeoutMs?: number; now?: () => number; fetchImpl?: typeof fetch } = {},
): Promise<TradingCallResult> {
  const url = resolveUrl(endpoint, "/v5/user/query-api");
  const headers = bybitSignedHeaders({ apiKey: key.keyId, secret: key.secret }, "", {
    nowMs: (opts.now ?? Date.now)(),
    recvWindowMs: DEFAULT_RECV_WINDOW_MS,
  });
  const res = await (opts.fetchImpl ?? fetch)(url, {
    method: "GET",
    headers,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
  });
  const body = (await res.json().catch(() => undefined)) as { retCode?: unknown } | undefined;
  const retCode = typeof body?.retCode === "number" ? body.retCode : undefined;
  return {
    ok: res.status === 200 && retCode === 0,
    status: res.status,
    ...(retCode !== undefined ? { retCode } : {}),
  };
}

/**
 * An order a trading service places with its key (`POST /v5/order/create`, a market order the
 * simulator fills at once), so the sub-account's execution list has something to report.
 */
export async function tradingOrder(
  endpoint: string,
  key: { keyId: string; secret: string },
  order: {
    category: "linear" | "inverse" | "spot" | "option";
    symbol: string;
    side?: "Buy" | "Sell";
    qty?: string;
  },
  opts: { timeoutMs?: number; now?: () => number; fetchImpl?: typeof fetch } = {},
): Promise<TradingCallResult & { orderId?: string }> {
  const body = JSON.stringify({
    category: order.category,
    symbol: order.symbol,
    side: order.side ?? "Buy",
    orderType: "Market",
    qty: order.qty ?? "1",
  });
  const headers = bybitSignedHeaders({ apiKey: key.keyId, secret: key.secret }, body, {
    nowMs: (opts.now ?? Date.now)(),
    recvWindowMs: DEFAULT_RECV_WINDOW_MS,
  });
  headers["content-type"] = "application/json";
  const res = await (opts.fetchImpl ?? fetch)(resolveUrl(endpoint, "/v5/order/create"), {
    method: "POST",
    headers,
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
  });
  const answer = (await res.json().catch(() => undefined)) as
    | { retCode?: unknown; result?: { orderId?: unknown } }
    | undefined;
  const retCode = typeof answer?.retCode === "number" ? answer.retCode : undefined;
  const orderId = typeof answer?.result?.orderId === "string" ? answer.result.orderId : undefined;
  return {
    ok: res.status === 200 && retCode === 0,
    status: res.status,
    ...(retCode !== undefined ? { retCode } : {}),
    ...(orderId ? { orderId } : {}),
  };
}
