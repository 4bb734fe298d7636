import {
  BINANCE_API_KEY_HEADER,
  DEFAULT_RECV_WINDOW_MS,
  signedParameters,
  withSignature,
} from "../../../../src/adapters/exchange/binance/signing";
import { resolveUrl } from "../../../../src/adapters/exchange/http";

export interface TradingCallResult {
  /** HTTP 200 and an account: the key authenticated. */
  ok: boolean;
  status: number;
  /** Binance's code when the answer was `{code, msg}` (-2015 for a removed key or an IP off the list). */
  code?: number;
}

/**
 * The read-only call a trading service makes with its key (`GET /api/v3/account`, USER_DATA),
 * so the local consumers can prove a removed key is refused; the simulator's request log records
 * which key each call used. Signed like every Binance call; the secret never leaves this function.
 * `fetchImpl` decides which address the call leaves from (`fetchFrom`).
 */
export async function tradingCall(
  endpoint: string,
  key: { keyId: string; secret: string },
  opts: { timeoutMs?: number; now?: () => number; fetchImpl?: typeof fetch } = {},
): Promise<TradingCallResult> {
  const url = resolveUrl(endpoint, "/api/v3/account");
  url.search = withSignature(
    key.secret,
    signedParameters({}, { nowMs: (opts.now ?? Date.now)(), recvWindowMs: DEFAULT_RECV_WINDOW_MS }),
  );
  const res = await (opts.fetchImpl ?? fetch)(url, {
    method: "GET",
    headers: { [BINANCE_API_KEY_HEADER]: key.keyId },
    signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
  });
  const body = (await res.json().catch(() => undefined)) as { code?: unknown } | undefined;
  const code = typeof body?.code === "number" ? body.code : undefined;
  return {
    ok: res.status === 200 && code === undefined,
    status: res.status,
    ...(code !== undefined ? { code } : {}),
  };
}
