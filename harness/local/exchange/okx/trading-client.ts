import { resolveUrl } from "../../../../src/adapters/exchange/http";
import { okxSignedHeaders } from "../../../../src/adapters/exchange/okx/signing";

export interface OkxTradingCallResult {
  /** HTTP 200 and code "0": the key authenticated. */
  ok: boolean;
  status: number;
  /** OKX's code when the answer had the envelope (50111 for a removed key, 50110 for a caller off the whitelist). */
  code?: string;
}

/**
 * The read-only call a trading service makes with its key (`GET /api/v5/account/balance`), so the
 * local consumers can prove a removed key is refused; the simulator's request log records which
 * key each call used. Signed like every OKX call; the secret key and passphrase never leave here.
 */
export async function tradingCall(
  endpoint: string,
  key: { keyId: string; secret: string; passphrase: string },
  opts: { timeoutMs?: number; now?: () => number; fetchImpl?: typeof fetch; demo?: boolean } = {},
): Promise<OkxTradingCallResult> {
  const url = resolveUrl(endpoint, "/api/v5/account/balance");
  const headers = okxSignedHeaders(
    { apiKey: key.keyId, secretKey: key.secret, passphrase: key.passphrase },
    { method: "GET", requestPath: url.pathname, body: "" },
    { nowMs: (opts.now ?? Date.now)(), demo: opts.demo ?? false },
  );
  const res = await (opts.fetchImpl ?? fetch)(url, {
    method: "GET",
    headers,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
  });
  const body = (await res.json().catch(() => undefined)) as { code?: unknown } | undefined;
  const code = typeof body?.code === "string" ? body.code : undefined;
  return {
    ok: res.status === 200 && code === "0",
    status: res.status,
    ...(code !== undefined ? { code } : {}),
  };
}

/**
 * An order a trading service places with its key (`POST /api/v5/trade/order`, a market order the
 * simulator fills at once), so the sub-account's fills have something to report.
 */
export async function tradingOrder(
  endpoint: string,
  key: { keyId: string; secret: string; passphrase: string },
  order: { instId: string; tdMode?: "cash" | "cross" | "isolated"; side?: "buy" | "sell"; sz?: string },
  opts: { timeoutMs?: number; now?: () => number; fetchImpl?: typeof fetch; demo?: boolean } = {},
): Promise<OkxTradingCallResult & { ordId?: string }> {
  const url = resolveUrl(endpoint, "/api/v5/trade/order");
  const body = JSON.stringify({
    instId: order.instId,
    tdMode: order.tdMode ?? "cash",
    side: order.side ?? "buy",
    ordType: "market",
    sz: order.sz ?? "1",
  });
  const headers = okxSignedHeaders(
    { apiKey: key.keyId, secretKey: key.secret, passphrase: key.passphrase },
    { method: "POST", requestPath: url.pathname, body },
    { nowMs: (opts.now ?? Date.now)(), demo: opts.demo ?? false },
  );
  headers["content-type"] = "application/json";
  const res = await (opts.fetchImpl ?? fetch)(url, {
    method: "POST",
    headers,
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
  });
  const answer = (await res.json().catch(() => undefined)) as
    | { code?: unknown; data?: Array<{ ordId?: unknown }> }
    | undefined;
  const code = typeof answer?.code === "string" ? answer.code : undefined;
  const ordId = answer?.data?.[0]?.ordId;
  return {
    ok: res.status === 200 && code === "0",
    status: res.status,
    ...(code !== undefined ? { code } : {}),
    ...(typeof ordId === "string" ? { ordId } : {}),
  };
}
