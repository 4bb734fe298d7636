import { gateSignedHeaders } from "../../../../src/adapters/exchange/gate/signing";
import { resolveUrl } from "../../../../src/adapters/exchange/http";

export interface GateTradingCallResult {
  /** HTTP 2xx: the key authenticated and was allowed. */
  ok: boolean;
  status: number;
  /** Gate's label when refused (INVALID_KEY for a removed key, IP_FORBIDDEN for a caller off the whitelist). */
  label?: string;
}

type TradingOptions = { timeoutMs?: number; now?: () => number; fetchImpl?: typeof fetch };

/**
 * The calls a trading service makes with its key: the spot balance read (`GET /spot/accounts`,
 * the default) or a spot limit order (`POST /spot/orders`). Each authenticated call moves the
 * key's `last_access`; the simulator's request log records which key each call used. Signed like
 * every Gate call; the secret never leaves here.
 */
export async function tradingCall(
  endpoint: string,
  key: { keyId: string; secret: string },
  opts: TradingOptions & {
    order?: { currency_pair: string; side: "buy" | "sell"; amount: string; price: string };
  } = {},
): Promise<GateTradingCallResult> {
  const method = opts.order ? "POST" : "GET";
  const url = resolveUrl(endpoint, opts.order ? "/api/v4/spot/orders" : "/api/v4/spot/accounts");
  const body = opts.order ? JSON.stringify({ ...opts.order, type: "limit" }) : "";
  const headers = gateSignedHeaders(
    { apiKey: key.keyId, apiSecret: key.secret },
    { method, path: url.pathname, query: "", body },
    (opts.now ?? Date.now)(),
  );
  const res = await (opts.fetchImpl ?? fetch)(url, {
    method,
    headers: {
      ...headers,
      accept: "application/json",
      ...(body ? { "content-type": "application/json" } : {}),
    },
    ...(body ? { body } : {}),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
  });
  const answer = (await res.json().catch(() => undefined)) as { label?: unknown } | undefined;
  const label = !res.ok && typeof answer?.label === "string" ? answer.label : undefined;
  return { ok: res.ok, status: res.status, ...(label !== undefined ? { label } : {}) };
}
