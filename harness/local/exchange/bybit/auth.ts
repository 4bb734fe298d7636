import type { IncomingHttpHeaders } from "node:http";
import {
  BYBIT_HEADERS,
  bybitSignatureMatches,
  DEFAULT_RECV_WINDOW_MS,
} from "../../../../src/adapters/exchange/bybit/signing";
import { ipAllowed } from "../caller-address";
import { BybitSimError, RET } from "./errors";
import { lifetime } from "./key-rules";
import type { BybitStore, SimKey } from "./store";

/** "Unit in millisecond": a timestamp may run at most this far ahead of the server (the guide's rule). */
const AHEAD_TOLERANCE_MS = 1_000;

export interface SignedRequest {
  headers: IncomingHttpHeaders;
  /** GET: the raw query string (no `?`); POST: the raw body. What the caller must have signed. */
  payload: string;
  /** The caller's address as Bybit sees it, judged against the key's IP binding. */
  callerIp: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Authenticates a request the way Bybit's guide describes it and returns the signing key.
 *
 * - `server_time - recv_window <= timestamp < server_time + 1000`, else 10002. There is no nonce:
 *   the same signed request replayed inside the window is accepted, as on Bybit; the window is
 *   the replay guard.
 * - The signature covers `timestamp + apiKey + recvWindow + payload` exactly as received (10004).
 * - The key's state (IP binding 10010, expiry 33004) is revealed only after the signature checks
 *   out, so a forger learns nothing about a key but that it exists.
 */
export function authenticate(request: SignedRequest, store: BybitStore): SimKey {
  const apiKey = header(request.headers, BYBIT_HEADERS.apiKey);
  const timestamp = header(request.headers, BYBIT_HEADERS.timestamp);
  const signature = header(request.headers, BYBIT_HEADERS.signature);
  if (!apiKey || !timestamp || !signature) {
    const missing = [BYBIT_HEADERS.apiKey, BYBIT_HEADERS.timestamp, BYBIT_HEADERS.signature]
      .filter((name) => !header(request.headers, name))
      .map((name) => name.toUpperCase());
    // Bybit's HTTP table: 401 when the authentication params are not in the request header.
    throw new BybitSimError(RET.invalidKey, `missing header(s): ${missing.join(", ")}`, 401);
  }
  const key = store.key(apiKey);
  if (!key || key.removedAt !== undefined) {
    throw new BybitSimError(
      RET.invalidKey,
      "API key is invalid. Check whether the key and domain are matched, there are 4 env: mainnet, testnet, mainnet-demo, testnet-demo",
    );
  }
  const recvWindowText = header(request.headers, BYBIT_HEADERS.recvWindow) ?? String(DEFAULT_RECV_WINDOW_MS);
  if (!/^\d{1,9}$/.test(recvWindowText)) {
    throw new BybitSimError(RET.params, "X-BAPI-RECV-WINDOW must be milliseconds");
  }
  const now = store.now();
  const recvWindow = Number(recvWindowText);
  const ts = /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  if (!(ts >= now - recvWindow && ts < now + AHEAD_TOLERANCE_MS)) {
    throw new BybitSimError(
      RET.recvWindow,
      `invalid request, please check your server timestamp or recv_window param. req_timestamp[${timestamp.slice(0, 16)}],server_timestamp[${now}],recv_window[${recvWindow}]`,
    );
  }
  const parts = { timestamp, apiKey, recvWindow: recvWindowText, payload: request.payload };
  if (!bybitSignatureMatches(key.secret, parts, signature)) {
    throw new BybitSimError(RET.sign, "Error sign, please check your signature generation algorithm.");
  }
  // The master's key as much as a sub-account's: a bound admin key called from elsewhere is refused too.
  if (!ipAllowed(key.ips, request.callerIp)) {
    throw new BybitSimError(RET.ip, "Unmatched IP, please check your API key's bound IP addresses.");
  }
  if (lifetime(key, now).expired) throw new BybitSimError(RET.keyExpired, "Your api key has expired.");
  return key;
}
