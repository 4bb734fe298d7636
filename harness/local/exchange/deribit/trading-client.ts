import { deribitAuthorizationHeader } from "../../../../src/adapters/exchange/deribit/signing";
import { resolveUrl } from "../../../../src/adapters/exchange/http";

export interface TradingCallResult {
  /** The key authenticated and the call was served. */
  ok: boolean;
  status: number;
  /** Deribit's `error.code` when it refused. */
  errorCode?: number;
}

/**
 * The read-only call a simulated trading service makes with its key, signed per request as a
 * real client would: `private/get_open_orders_by_currency` (scope `trade:read`). A disabled or
 * removed key is refused by the exchange; the simulator's request log records which key was used.
 */
export async function tradingCall(
  endpoint: string,
  key: { keyId: string; secret: string },
  opts: { timeoutMs?: number; now?: () => number; fetchImpl?: typeof fetch } = {},
): Promise<TradingCallResult> {
  const method = "private/get_open_orders_by_currency";
  const url = resolveUrl(endpoint, `/api/v2/${method}`);
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: { currency: "BTC" } });
  const authorization = deribitAuthorizationHeader(
    { clientId: key.keyId, clientSecret: key.secret },
    { method: "POST", uri: url.pathname + url.search, body, nowMs: (opts.now ?? Date.now)() },
  );
  const res = await (opts.fetchImpl ?? fetch)(url, {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
  });
  const answer = (await res.json().catch(() => undefined)) as { error?: { code?: unknown } } | undefined;
  const code = answer?.error?.code;
  return {
    ok: res.ok && answer !== undefined && answer.error === undefined,
    status: res.status,
    ...(typeof code === "number" ? { errorCode: code } : {}),
  };
}
