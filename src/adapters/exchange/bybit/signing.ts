import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Bybit v5 request signing (HMAC keys), per the v5 Integration Guidance, "Create A Request":
 * sign `timestamp + apiKey + recvWindow + payload` with HMAC-SHA256 under the key's secret, as
 * lowercase hex, where the payload is the query string of a GET exactly as sent and the raw JSON
 * body of a POST exactly as sent. There is no nonce: the timestamp window is the replay guard.
 */

export const BYBIT_HEADERS = {
  apiKey: "x-bapi-api-key",
  timestamp: "x-bapi-timestamp",
  recvWindow: "x-bapi-recv-window",
  signature: "x-bapi-sign",
  /** pybit sends `2` with every signed request; its meaning is not in the published guide. */
  signType: "x-bapi-sign-type",
} as const;

/** The guide's default `X-BAPI-RECV-WINDOW`, in milliseconds. */
export const DEFAULT_RECV_WINDOW_MS = 5_000;

export interface SignatureParts {
  timestamp: string;
  apiKey: string;
  recvWindow: string;
  /** GET: the query string without `?`; POST: the JSON body. Byte for byte what goes on the wire. */
  payload: string;
}

export function bybitSignature(secret: string, parts: SignatureParts): string {
  return createHmac("sha256", secret)
    .update(parts.timestamp + parts.apiKey + parts.recvWindow + parts.payload)
    .digest("hex");
}

/** Constant-time comparison of a received signature with the expected one. */
export function bybitSignatureMatches(secret: string, parts: SignatureParts, received: string): boolean {
  const expected = Buffer.from(bybitSignature(secret, parts), "utf8");
  const actual = Buffer.from(received, "utf8");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The headers of one signed request, timestamped at `nowMs`. */
export function bybitSignedHeaders(
  credential: { apiKey: string; secret: string },
  payload: string,
  opts: { nowMs: number; recvWindowMs: number },
): Record<string, string> {
  const parts: SignatureParts = {
    timestamp: String(Math.floor(opts.nowMs)),
    apiKey: credential.apiKey,
    recvWindow: String(opts.recvWindowMs),
    payload,
  };
  return {
    [BYBIT_HEADERS.apiKey]: parts.apiKey,
    [BYBIT_HEADERS.timestamp]: parts.timestamp,
    [BYBIT_HEADERS.recvWindow]: parts.recvWindow,
    [BYBIT_HEADERS.signature]: bybitSignature(credential.secret, parts),
    [BYBIT_HEADERS.signType]: "2",
  };
}
