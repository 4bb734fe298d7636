import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Kraken spot REST request signing, per Kraken's "Spot REST Authentication" guide
 * (docs.kraken.com/api/docs/guides/spot-rest-auth): `API-Sign` is
 * base64(HMAC-SHA512(key = base64-decoded secret, message = uriPath + SHA256(nonce + postData))),
 * where `uriPath` starts at `/0/private/`, `postData` is the request body exactly as sent (the
 * form-encoded payload, `nonce` included) and `nonce` is the same nonce as a decimal string. The
 * SHA-256 digest is appended as raw bytes, not hex. The guide's worked example (AddOrder, nonce
 * 1616492376594) is the test vector in `test/exchanges/kraken-signing.test.ts`.
 */

export const KRAKEN_HEADERS = {
  apiKey: "API-Key",
  signature: "API-Sign",
} as const;

/** The prefix every private path starts with, and the part of the URL the signature covers. */
export const PRIVATE_PREFIX = "/0/private/";

export interface SignatureParts {
  /** `/0/private/<Method>`: the URL's path, without host or query. */
  uriPath: string;
  /** The nonce as sent in the body, in decimal. */
  nonce: string;
  /** The body exactly as sent (form-encoded), `nonce=` included. */
  postData: string;
}

/** Secrets are standard base64 (88 characters for Kraken's 64-byte secrets); nothing else decodes. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function isBase64Secret(secret: string): boolean {
  return secret.length > 0 && BASE64.test(secret);
}

export function krakenSignature(secret: string, parts: SignatureParts): string {
  const digest = createHash("sha256")
    .update(parts.nonce + parts.postData, "utf8")
    .digest();
  return createHmac("sha512", Buffer.from(secret, "base64"))
    .update(Buffer.concat([Buffer.from(parts.uriPath, "utf8"), digest]))
    .digest("base64");
}

/** Constant-time comparison of a received `API-Sign` with the expected one. */
export function krakenSignatureMatches(secret: string, parts: SignatureParts, received: string): boolean {
  const expected = Buffer.from(krakenSignature(secret, parts), "utf8");
  const actual = Buffer.from(received, "utf8");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * The form body of one private call: `nonce` first, then the parameters in the order given,
 * form-encoded as `URLSearchParams` encodes them (what the guide's example payload looks like).
 */
export function krakenPostData(nonce: string, params: Record<string, string> = {}): string {
  const form = new URLSearchParams({ nonce });
  for (const [name, value] of Object.entries(params)) {
    if (name !== "nonce") form.append(name, value);
  }
  return form.toString();
}

/** Headers and body of one signed private call. */
export function krakenSignedRequest(
  credential: { apiKey: string; secret: string },
  uriPath: string,
  nonce: string,
  params: Record<string, string> = {},
): { headers: Record<string, string>; body: string } {
  const body = krakenPostData(nonce, params);
  return {
    body,
    headers: {
      [KRAKEN_HEADERS.apiKey]: credential.apiKey,
      [KRAKEN_HEADERS.signature]: krakenSignature(credential.secret, { uriPath, nonce, postData: body }),
      "content-type": "application/x-www-form-urlencoded",
    },
  };
}
