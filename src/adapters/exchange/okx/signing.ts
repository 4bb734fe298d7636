import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * OKX v5 REST signing, per the v5 reference "Overview → REST Authentication": `OK-ACCESS-SIGN` is
 * the Base64 HMAC-SHA256, under the key's SecretKey, of `timestamp + METHOD + requestPath + body`,
 * where `timestamp` is `OK-ACCESS-TIMESTAMP` (UTC ISO-8601 with milliseconds,
 * `2020-12-08T09:08:57.715Z`), the method is upper case, the request path of a GET carries its
 * query string ("GET request parameters are counted as requestpath, not body") and the body is
 * the JSON text sent ("" when there is none). `OK-ACCESS-PASSPHRASE` is the key's passphrase,
 * sent as is. A demo-trading request also carries `x-simulated-trading: 1`.
 */

export const OKX_HEADERS = {
  apiKey: "ok-access-key",
  signature: "ok-access-sign",
  timestamp: "ok-access-timestamp",
  passphrase: "ok-access-passphrase",
  /** "x-simulated-trading: 1 needs to be added to the header of the Demo Trading request." */
  simulated: "x-simulated-trading",
} as const;

export interface OkxSignatureParts {
  timestamp: string;
  method: "GET" | "POST";
  /** `/api/v5/...` plus `?query` for a GET, exactly as sent. */
  requestPath: string;
  /** The JSON body exactly as sent; "" for a GET. */
  body: string;
}

/** One key's credential: all three parts sign or travel with every private request. */
export interface OkxCredential {
  apiKey: string;
  secretKey: string;
  passphrase: string;
}

/** `OK-ACCESS-TIMESTAMP` for `nowMs`: UTC, millisecond ISO-8601. */
export function okxTimestamp(nowMs: number): string {
  return new Date(Math.floor(nowMs)).toISOString();
}

export function okxSignature(secretKey: string, parts: OkxSignatureParts): string {
  return createHmac("sha256", secretKey)
    .update(parts.timestamp + parts.method + parts.requestPath + parts.body)
    .digest("base64");
}

/** Constant-time comparison of a received signature with the expected one. */
export function okxSignatureMatches(secretKey: string, parts: OkxSignatureParts, received: string): boolean {
  const expected = Buffer.from(okxSignature(secretKey, parts), "utf8");
  const actual = Buffer.from(received, "utf8");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The headers of one signed request, timestamped at `nowMs`. */
export function okxSignedHeaders(
  credential: OkxCredential,
  request: Omit<OkxSignatureParts, "timestamp">,
  opts: { nowMs: number; demo: boolean },
): Record<string, string> {
  const timestamp = okxTimestamp(opts.nowMs);
  return {
    [OKX_HEADERS.apiKey]: credential.apiKey,
    [OKX_HEADERS.signature]: okxSignature(credential.secretKey, { ...request, timestamp }),
    [OKX_HEADERS.timestamp]: timestamp,
    [OKX_HEADERS.passphrase]: credential.passphrase,
    ...(opts.demo ? { [OKX_HEADERS.simulated]: "1" } : {}),
  };
}
