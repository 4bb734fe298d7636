import type { IncomingHttpHeaders } from "node:http";
import { KRAKEN_HEADERS, krakenSignatureMatches } from "../../../../src/adapters/exchange/kraken/signing";
import { ipAllowed } from "../caller-address";
import { ERR, KrakenSimError } from "./errors";
import type { KrakenStore, SimKey } from "./store";

export interface SignedRequest {
  headers: IncomingHttpHeaders;
  /** `/0/private/<Method>` as received: what the signature covers. */
  uriPath: string;
  /** The raw body: what the signature covers after the nonce. */
  body: string;
  /** The caller's address as Kraken sees it, judged against the key's IP allow-list. */
  callerIp: string;
}

const U64_MAX = 2n ** 64n - 1n;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The `nonce` of a form body, or of a JSON body (Kraken's newer reference shows JSON bodies too). */
function nonceOf(headers: IncomingHttpHeaders, body: string): string | undefined {
  const type = header(headers, "content-type") ?? "";
  let value: unknown;
  if (type.startsWith("application/json")) {
    try {
      value = (JSON.parse(body) as { nonce?: unknown }).nonce;
    } catch {
      return undefined;
    }
  } else {
    value = new URLSearchParams(body).get("nonce") ?? undefined;
  }
  const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
  return typeof text === "string" && /^\d{1,20}$/.test(text) && BigInt(text) <= U64_MAX ? text : undefined;
}

/**
 * Kraken's nonce rule: above the key's highest nonce, or — when the key has a nonce window — not
 * more than the window below it and not used before. Only a signed request moves it, so a forger
 * cannot burn a key's nonces.
 */
function acceptNonce(key: SimKey, nonce: bigint): void {
  const window = BigInt(key.nonceWindow);
  const fresh =
    nonce > key.highestNonce ||
    (window > 0n && nonce > key.highestNonce - window && !key.seenInWindow.has(nonce));
  if (!fresh) throw new KrakenSimError(ERR.invalidNonce);
  if (nonce > key.highestNonce) key.highestNonce = nonce;
  for (const seen of key.seenInWindow) if (seen <= key.highestNonce - window) key.seenInWindow.delete(seen);
  if (window > 0n) key.seenInWindow.add(nonce);
}

/**
 * Authenticates a private call as Kraken's authentication guide describes it and returns the key.
 * Order (the simulator's choice where Kraken publishes none): the key must exist, be undeleted and
 * unexpired (`EAPI:Invalid key`); a nonce must be present (`EAPI:Invalid nonce`); the API-Sign must
 * verify over path + SHA256(nonce + body) (`EAPI:Invalid signature`); then the nonce rule, then the
 * key's IP allow-list. Kraken names no distinct error for an address off the allow-list; the
 * simulator answers `EGeneral:Permission denied` (docs/exchanges.md, Kraken, "Unverified").
 */
export function authenticate(request: SignedRequest, store: KrakenStore): SimKey {
  const apiKey = header(request.headers, KRAKEN_HEADERS.apiKey);
  const key = apiKey ? store.key(apiKey) : undefined;
  if (!key || key.removedAt !== undefined || store.expired(key)) throw new KrakenSimError(ERR.invalidKey);
  const nonce = nonceOf(request.headers, request.body);
  if (nonce === undefined) throw new KrakenSimError(ERR.invalidNonce);
  const signature = header(request.headers, KRAKEN_HEADERS.signature) ?? "";
  const parts = { uriPath: request.uriPath, nonce, postData: request.body };
  if (!krakenSignatureMatches(key.secret, parts, signature)) throw new KrakenSimError(ERR.invalidSignature);
  acceptNonce(key, BigInt(nonce));
  if (!ipAllowed(key.ipAllowlist, request.callerIp)) throw new KrakenSimError(ERR.permissionDenied);
  key.lastUsed = store.now();
  return key;
}
