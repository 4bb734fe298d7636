import type { IncomingHttpHeaders } from "node:http";
import {
  BINANCE_API_KEY_HEADER,
  binanceSignatureMatches,
  DEFAULT_RECV_WINDOW_MS,
  MAX_RECV_WINDOW_MS,
} from "../../../../src/adapters/exchange/binance/signing";
import { ipAllowed } from "../caller-address";
import { BinanceSimError, CODE, invalid, mandatory, rejectedKey } from "./errors";
import type { BinanceStore, SimKey } from "./store";

/** "Timestamp for this request was 1000ms ahead of the server's time." */
const AHEAD_TOLERANCE_MS = 1_000;

export interface SignedRequest {
  headers: IncomingHttpHeaders;
  /** The raw query string (no `?`) and the raw form body, exactly as received. */
  query: string;
  body: string;
  /** The caller's address (`callerIp`), judged against the key's trusted IPs. */
  callerIp: string;
}

/**
 * Where `signature` is and what was signed: it must be the last parameter of the query string or
 * of the body; the payload is the query string concatenated to the body, `signature` left out
 * (rest-api.md, "SIGNED Endpoint Examples"). Byte for byte what arrived: a client that signed one
 * encoding and sent another fails, as on Binance.
 */
function splitSignature(query: string, body: string): { payload: string; signature: string } {
  for (const [part, other, last] of [
    [body, query, false],
    [query, body, true],
  ] as const) {
    const at = part.lastIndexOf("signature=");
    if (at === 0 || (at > 0 && part[at - 1] === "&")) {
      const signature = part.slice(at + "signature=".length);
      if (signature.includes("&")) continue;
      const rest = part.slice(0, Math.max(0, at - 1));
      return { payload: last ? rest + other : other + rest, signature };
    }
  }
  throw mandatory("signature");
}

/**
 * Authenticates a `SIGNED` request as Binance describes it and returns the key and its parameters
 * (query and body merged, `signature` left out).
 * - `X-MBX-APIKEY` missing: -2014; unknown or removed: -2015 (HTTP 401).
 * - `timestamp` < server time + 1 s and server time - `timestamp` <= `recvWindow` (default 5000,
 *   at most 60000), else -1021.
 * - The signature covers the received query string + body (-1022).
 * - The key's trusted IPs against the caller's address, after the signature checks out, so a
 *   forger learns nothing but that the key exists: -2015 "Invalid API-key, IP, or permissions".
 */
export function authenticate(
  request: SignedRequest,
  store: BinanceStore,
): { key: SimKey; params: URLSearchParams } {
  const claimed = request.headers[BINANCE_API_KEY_HEADER];
  const apiKey = Array.isArray(claimed) ? claimed[0] : claimed;
  if (!apiKey) throw new BinanceSimError(CODE.badKeyFormat, "API-key format invalid.", 401);
  const key = store.key(apiKey);
  if (!key || key.removedAt !== undefined) throw rejectedKey();
  const { payload, signature } = splitSignature(request.query, request.body);
  const params = new URLSearchParams(payload);
  const timestamp = params.get("timestamp");
  if (!timestamp) throw mandatory("timestamp");
  const recvText = params.get("recvWindow");
  const recvWindow = recvText === null ? DEFAULT_RECV_WINDOW_MS : Number(recvText);
  if (!(recvWindow > 0 && recvWindow <= MAX_RECV_WINDOW_MS)) throw invalid("recvWindow");
  const ts = /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  const now = store.now();
  if (!(ts < now + AHEAD_TOLERANCE_MS && now - ts <= recvWindow)) {
    throw new BinanceSimError(CODE.timestamp, "Timestamp for this request is outside of the recvWindow.");
  }
  if (!binanceSignatureMatches(key.secret, payload, signature)) {
    throw new BinanceSimError(CODE.signature, "Signature for this request is not valid.");
  }
  if (!ipAllowed(key.ips, request.callerIp)) throw rejectedKey();
  return { key, params };
}
