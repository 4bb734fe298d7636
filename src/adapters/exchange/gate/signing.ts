import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Gate APIv4 signing, as Gate's own SDK does it (gateio/gateapi-python `gate_api/api_client.py`,
 * `gen_sign`; the same rule in ccxt `ts/src/gate.ts` `sign`): `SIGN` is the hex HMAC-SHA512, under
 * the key's secret, of
 *
 *     METHOD \n URL path \n query string \n hex(SHA-512(body)) \n Timestamp
 *
 * where the URL path is the request's whole path (`/api/v4/...`), the query string is "" when
 * there is none, the body hash is taken over "" for a request without a body, and `Timestamp`
 * is the Unix time in seconds, sent as is in the `Timestamp` header next to `KEY` and `SIGN`.
 */

export const GATE_HEADERS = {
  apiKey: "key",
  signature: "sign",
  timestamp: "timestamp",
} as const;

/** Every path keyshift calls sits under this prefix, and the prefix is part of what is signed. */
export const GATE_API_PREFIX = "/api/v4";

export interface GateSignatureParts {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** The request's path as sent, `/api/v4/...`. */
  path: string;
  /** The query string without `?`; "" when there is none. */
  query: string;
  /** The body exactly as sent; "" when there is none. */
  body: string;
  /** Unix seconds, as sent in `Timestamp`. */
  timestamp: string;
}

export interface GateCredential {
  apiKey: string;
  apiSecret: string;
}

/** `Timestamp` for `nowMs`: whole Unix seconds. */
export function gateTimestamp(nowMs: number): string {
  return String(Math.floor(nowMs / 1000));
}

export function gateSignaturePayload(parts: GateSignatureParts): string {
  const bodyHash = createHash("sha512").update(parts.body, "utf8").digest("hex");
  return [parts.method, parts.path, parts.query, bodyHash, parts.timestamp].join("\n");
}

export function gateSignature(apiSecret: string, parts: GateSignatureParts): string {
  return createHmac("sha512", apiSecret).update(gateSignaturePayload(parts), "utf8").digest("hex");
}

/** Constant-time comparison of a received signature with the expected one. */
export function gateSignatureMatches(
  apiSecret: string,
  parts: GateSignatureParts,
  received: string,
): boolean {
  const expected = Buffer.from(gateSignature(apiSecret, parts), "utf8");
  const actual = Buffer.from(received, "utf8");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The headers of one signed request, timestamped at `nowMs`. */
export function gateSignedHeaders(
  credential: GateCredential,
  request: Omit<GateSignatureParts, "timestamp">,
  nowMs: number,
): Record<string, string> {
  const timestamp = gateTimestamp(nowMs);
  return {
    [GATE_HEADERS.apiKey]: credential.apiKey,
    [GATE_HEADERS.timestamp]: timestamp,
    [GATE_HEADERS.signature]: gateSignature(credential.apiSecret, { ...request, timestamp }),
  };
}
