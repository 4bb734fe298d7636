import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Binance `SIGNED` request signing for HMAC keys (binance-spot-api-docs `rest-api.md`, "SIGNED
 * Endpoint security" and "Timing security"; the same rules serve `/sapi`): the key goes in the
 * `X-MBX-APIKEY` header; `timestamp` (ms) and `recvWindow` (default 5000, at most 60000) are
 * parameters; `signature` is the lowercase hex HMAC-SHA256, under the key's secret, of the
 * percent-encoded query string concatenated without separator to the body — exactly the bytes
 * sent (percent-encoding before signing is required since 2026-01-15, sub-account change log of
 * 2025-12-26). `signature` itself is sent last and is not signed. No nonce: the window is the
 * replay guard.
 */

export const BINANCE_API_KEY_HEADER = "x-mbx-apikey";

/** Binance's default `recvWindow` when none is sent, in ms. */
export const DEFAULT_RECV_WINDOW_MS = 5_000;
/** "The max cannot go beyond 60,000!" */
export const MAX_RECV_WINDOW_MS = 60_000;

/** Hex HMAC-SHA256 of `payload` (query string + body, as sent) under `secret`. */
export function binanceSignature(secret: string, payload: string): string {
  return createHmac("sha256", secret).update(payload).digest("hex");
}

/**
 * Constant-time check of a received signature. HMAC signatures are "not case-sensitive"
 * (rest-api.md, "Signature Case Sensitivity"), so the received hex is compared in lower case.
 */
export function binanceSignatureMatches(secret: string, payload: string, received: string): boolean {
  const expected = Buffer.from(binanceSignature(secret, payload), "utf8");
  const actual = Buffer.from(received.toLowerCase(), "utf8");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * `params` as a percent-encoded parameter string, in the order given, with `timestamp` and
 * `recvWindow` appended: what is signed (and sent) before `&signature=…`.
 */
export function signedParameters(
  params: Record<string, string | number | boolean | undefined>,
  opts: { nowMs: number; recvWindowMs: number },
): string {
  const all: Array<[string, string]> = Object.entries(params)
    .filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined)
    .map(([name, value]) => [name, String(value)]);
  all.push(["recvWindow", String(opts.recvWindowMs)], ["timestamp", String(Math.floor(opts.nowMs))]);
  return all.map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`).join("&");
}

/** The parameter string with its signature appended, ready for the query string or the form body. */
export function withSignature(secret: string, parameters: string): string {
  return `${parameters}&signature=${binanceSignature(secret, parameters)}`;
}
