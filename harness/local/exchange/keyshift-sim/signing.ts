import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Request signing shared by the HTTP adapter (client side) and the local exchange simulator
 * (server side), so both halves can never drift apart on the string-to-sign.
 *
 * Scheme: `x-ks-sig` = lowercase hex HMAC-SHA256(secret, `${ts}\n${nonce}\n${METHOD}\n${pathWithQuery}\n${body}`).
 */
export const SIGNATURE_HEADERS = {
  keyId: "x-ks-key",
  timestamp: "x-ks-ts",
  nonce: "x-ks-nonce",
  signature: "x-ks-sig",
} as const;

export interface SigningCredential {
  keyId: string;
  secret: string;
}

export interface SignedRequestParts {
  timestamp: string;
  nonce: string;
  method: string;
  /** Path as the server sees it, including the query string (`/v1/keys?x=1`). */
  pathWithQuery: string;
  /** Raw request body; the empty string when there is none. */
  body: string;
}

export function stringToSign(parts: SignedRequestParts): string {
  return `${parts.timestamp}\n${parts.nonce}\n${parts.method.toUpperCase()}\n${parts.pathWithQuery}\n${parts.body}`;
}

export function computeSignature(secret: string, parts: SignedRequestParts): string {
  return createHmac("sha256", secret).update(stringToSign(parts), "utf8").digest("hex");
}

/**
 * Constant-time check of a presented signature. A length mismatch still runs one comparison so
 * the time taken does not tell a caller how close a forged signature was.
 */
export function signatureMatches(secret: string, parts: SignedRequestParts, presented: string): boolean {
  const expected = Buffer.from(computeSignature(secret, parts), "utf8");
  const given = Buffer.from(presented, "utf8");
  if (given.length !== expected.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(expected, given);
}

/** Builds the four signature headers for one request. A fresh random nonce every call. */
export function signatureHeaders(
  credential: SigningCredential,
  method: string,
  pathWithQuery: string,
  body = "",
  nowMs: number = Date.now(),
): Record<string, string> {
  const timestamp = String(nowMs);
  const nonce = randomBytes(16).toString("hex");
  const signature = computeSignature(credential.secret, { timestamp, nonce, method, pathWithQuery, body });
  return {
    [SIGNATURE_HEADERS.keyId]: credential.keyId,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: signature,
  };
}
