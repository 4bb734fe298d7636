import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Deribit's per-request HMAC signature ("Deribit signature credentials"), shared by the adapter
 * (client side) and the Deribit simulator (server side) so the two can never drift apart:
 *
 *   Authorization: deri-hmac-sha256 id=<ClientId>,ts=<Timestamp>,sig=<Signature>,nonce=<Nonce>
 *   Signature    = hex(HMAC-SHA256(ClientSecret, Timestamp + "\n" + Nonce + "\n" + RequestData))
 *   RequestData  = UPPERCASE(HTTP method) + "\n" + URI + "\n" + RequestBody + "\n"
 *
 * URI is the path with its query string as sent (`/api/v2/private/get_account_summary?currency=BTC`);
 * RequestBody is the raw body ("" for GET). The timestamp is valid for 60 seconds; the nonce is
 * single-use. Sources: docs/exchanges.md, Deribit ("Signing").
 */
export const DERIBIT_AUTH_SCHEME = "deri-hmac-sha256";

/** How long Deribit accepts a request's timestamp after it was generated. */
export const DERIBIT_TIMESTAMP_VALIDITY_MS = 60_000;

export interface DeribitSignedParts {
  timestamp: string;
  nonce: string;
  method: string;
  /** Path and query string exactly as sent. */
  uri: string;
  body: string;
}

export interface DeribitAuthorization {
  clientId: string;
  timestamp: string;
  signature: string;
  nonce: string;
}

export function deribitStringToSign(parts: DeribitSignedParts): string {
  return `${parts.timestamp}\n${parts.nonce}\n${parts.method.toUpperCase()}\n${parts.uri}\n${parts.body}\n`;
}

export function deribitSignature(clientSecret: string, parts: DeribitSignedParts): string {
  return createHmac("sha256", clientSecret).update(deribitStringToSign(parts), "utf8").digest("hex");
}

/** A fresh single-use nonce: 96 random bits, hex (Deribit's own example uses 8 random [a-z0-9]). */
export function deribitNonce(): string {
  return randomBytes(12).toString("hex");
}

/** The `Authorization` header value for one request signed with the key `clientId`/`clientSecret`. */
export function deribitAuthorizationHeader(
  credential: { clientId: string; clientSecret: string },
  request: { method: string; uri: string; body: string; nowMs: number; nonce?: string },
): string {
  const timestamp = String(Math.trunc(request.nowMs));
  const nonce = request.nonce ?? deribitNonce();
  const signature = deribitSignature(credential.clientSecret, {
    timestamp,
    nonce,
    method: request.method,
    uri: request.uri,
    body: request.body,
  });
  return `${DERIBIT_AUTH_SCHEME} id=${credential.clientId},ts=${timestamp},sig=${signature},nonce=${nonce}`;
}

/**
 * Reads a `deri-hmac-sha256` header (fields in any order, optional spaces after commas, as the
 * docs show both). Undefined when the scheme is another or a field is missing or repeated.
 */
export function parseDeribitAuthorization(header: string | undefined): DeribitAuthorization | undefined {
  if (!header) return undefined;
  const match = /^deri-hmac-sha256\s+(.+)$/i.exec(header.trim());
  if (!match?.[1]) return undefined;
  const fields = new Map<string, string>();
  for (const part of match[1].split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return undefined;
    const name = part.slice(0, eq).trim();
    if (fields.has(name)) return undefined;
    fields.set(name, part.slice(eq + 1).trim());
  }
  const clientId = fields.get("id");
  const timestamp = fields.get("ts");
  const signature = fields.get("sig");
  const nonce = fields.get("nonce");
  if (!clientId || !timestamp || !signature || !nonce) return undefined;
  return { clientId, timestamp, signature, nonce };
}

/** Constant-time comparison of a presented signature with the expected one. */
export function deribitSignatureMatches(
  clientSecret: string,
  parts: DeribitSignedParts,
  presented: string,
): boolean {
  const expected = Buffer.from(deribitSignature(clientSecret, parts), "utf8");
  const given = Buffer.from(presented.toLowerCase(), "utf8");
  if (given.length !== expected.length) {
    timingSafeEqual(expected, expected);
    return false;
  }
  return timingSafeEqual(expected, given);
}
