import type { IncomingHttpHeaders } from "node:http";
import {
  GATE_HEADERS,
  type GateSignatureParts,
  gateSignatureMatches,
} from "../../../../src/adapters/exchange/gate/signing";
import { ipAllowed } from "../caller-address";
import { GateSimError, LABEL } from "./errors";
import type { GateStore, SimKey } from "./store";

/**
 * How far `Timestamp` may be from the server's clock. The sources read name the refusal
 * (REQUEST_EXPIRED) but no number; 60 s is what the simulator allows (docs/exchanges.md, Gate).
 */
export const TIMESTAMP_WINDOW_MS = 60_000;
/** Unix seconds; Gate's own SDK sends fractional ones (`time.time()`). */
const SECONDS = /^\d{1,12}(?:\.\d{1,9})?$/;

export interface SignedRequest {
  headers: IncomingHttpHeaders;
  method: GateSignatureParts["method"];
  /** The path exactly as received (`/api/v4/...`). */
  path: string;
  /** The query string as the signer saw it: received raw, then URL-decoded as the SDK's `unquote_plus`. */
  query: string;
  body: string;
  /** The caller's address (`callerIp`), judged against the key's IP whitelist. */
  callerIp: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Authenticates a request as Gate's APIv4 signing describes it and returns the key; records the
 * key's `last_access` when it authenticates.
 *
 * - `KEY`, `SIGN` and `Timestamp` must all be there (MISSING_REQUIRED_HEADER) and `KEY` must name
 *   a live key (INVALID_KEY).
 * - `Timestamp` must be Unix seconds within the window of the server's clock (REQUEST_EXPIRED).
 * - `SIGN` must be the hex HMAC-SHA512 of the request as received (INVALID_SIGNATURE). A forger
 *   learns nothing about the whitelist of a key whose secret he does not hold.
 * - The caller's IP must be on the key's whitelist, when it has one (IP_FORBIDDEN).
 */
export function authenticate(request: SignedRequest, store: GateStore): SimKey {
  const h = (name: string) => header(request.headers, name);
  const apiKey = h(GATE_HEADERS.apiKey);
  const sign = h(GATE_HEADERS.signature);
  const timestamp = h(GATE_HEADERS.timestamp);
  if (!apiKey || !sign || !timestamp) {
    throw new GateSimError(LABEL.missingHeader, "missing required header: KEY, SIGN or Timestamp", 401);
  }
  const key = store.key(apiKey);
  if (!key || key.removedAt !== undefined)
    throw new GateSimError(LABEL.invalidKey, "Invalid key provided", 401);
  const at = SECONDS.test(timestamp) ? Number(timestamp) * 1000 : Number.NaN;
  if (!Number.isFinite(at) || Math.abs(store.now() - at) > TIMESTAMP_WINDOW_MS) {
    throw new GateSimError(LABEL.expired, "Request timestamp expired", 401);
  }
  const parts = {
    method: request.method,
    path: request.path,
    query: request.query,
    body: request.body,
    timestamp,
  };
  if (!gateSignatureMatches(key.secret, parts, sign)) {
    throw new GateSimError(LABEL.invalidSignature, "Signature mismatch", 401);
  }
  if (!ipAllowed(key.ips, request.callerIp)) {
    throw new GateSimError(LABEL.ipForbidden, `Request IP ${request.callerIp} not in whitelist`, 401);
  }
  store.touch(key);
  return key;
}
