import { deribitAuthorizationHeader } from "../../../../src/adapters/exchange/deribit/signing";
import { resolveUrl } from "../../../../src/adapters/exchange/http";

export interface TradingCallResult {
  /** The key authenticated and the call was served. */
  ok: boolean;
  status: number;
  /** Deribit's `error.code` when it refused. */
  errorCode?: number;
}

type ClientOptions = { timeoutMs?: number; now?: () => number; fetchImpl?: typeof fetch };

/**
 * A trading service's login: `public/auth` with `grant_type: client_credentials` (the key's id
 * and secret in the body, as Deribit's reference shows it). The exchange records it in the
 * account's access log with the caller's address, success or failure.
 */
export async function tradingLogin(
  endpoint: string,
  key: { keyId: string; secret: string },
  opts: ClientOptions = {},
): Promise<TradingCallResult> {
  const method = "public/auth";
  const params = { grant_type: "client_credentials", client_id: key.keyId, client_secret: key.secret };
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  return send(resolveUrl(endpoint, `/api/v2/${method}`), { "content-type": "application/json" }, body, opts);
}

/** A market buy signed by the key (`private/buy`, scope `trade:read_write`): one fill in the transaction log. */
export async function tradingBuy(
  endpoint: string,
  key: { keyId: string; secret: string },
  order: { instrument: string; amount: number },
  opts: ClientOptions = {},
): Promise<TradingCallResult> {
  const params = { instrument_name: order.instrument, amount: order.amount, type: "market" };
  return signedCall(endpoint, key, "private/buy", params, opts);
}

/**
 * The read-only call a simulated trading service makes with its key, signed per request as a
 * real client would: `private/get_open_orders_by_currency` (scope `trade:read`). A disabled or
 * removed key is refused by the exchange; the simulator's request log records which key was used.
 */
export async function tradingCall(
  endpoint: string,
  key: { keyId: string; secret: string },
  opts: ClientOptions = {},
): Promise<TradingCallResult> {
  return signedCall(endpoint, key, "private/get_open_orders_by_currency", { currency: "BTC" }, opts);
}

async function signedCall(
  endpoint: string,
  key: { keyId: string; secret: string },
  method: string,
  params: Record<string, unknown>,
  opts: ClientOptions,
): Promise<TradingCallResult> {
  const url = resolveUrl(endpoint, `/api/v2/${method}`);
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
  const authorization = deribitAuthorizationHeader(
    { clientId: key.keyId, clientSecret: key.secret },
    { method: "POST", uri: url.pathname + url.search, body, nowMs: (opts.now ?? Date.now)() },
  );
  return send(url, { authorization, "content-type": "application/json" }, body, opts);
}

async function send(
  url: URL,
  headers: Record<string, string>,
  body: string,
  opts: ClientOptions,
): Promise<TradingCallResult> {
  const res = await (opts.fetchImpl ?? fetch)(url, {
    method: "POST",
    headers,
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
