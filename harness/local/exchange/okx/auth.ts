import type { IncomingHttpHeaders } from "node:http";
import { OKX_HEADERS, okxSignatureMatches } from "../../../../src/adapters/exchange/okx/signing";
import { ipAllowed } from "../caller-address";
import { CODE, OkxSimError } from "./errors";
import type { OkxStore, SimKey } from "./store";

/**
 * How far `OK-ACCESS-TIMESTAMP` may be from the server's clock. The reference names the error
 * (50102 "Timestamp request expired") but, in the pages read, no number; 30 s is what OKX's
 * clients and its own v3 rule use (docs/exchanges.md, OKX).
 */
export const TIMESTAMP_WINDOW_MS = 30_000;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface SignedRequest {
  headers: IncomingHttpHeaders;
  method: "GET" | "POST";
  /** The path and query exactly as received: what the caller must have signed. */
  requestPath: string;
  body: string;
  /** The caller's address (`callerIp`), judged against the key's IP whitelist. */
  callerIp: string;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Authenticates a request the way OKX's "REST Authentication" describes it and returns the key.
 *
 * - Every one of the four headers must be there (50103, 50104, 50106, 50107), and name a live key
 *   (50111).
 * - The timestamp must be millisecond ISO-8601 UTC (50112) within the window of the server's clock
 *   (50102).
 * - The signature covers `timestamp + METHOD + requestPath + body` exactly as received (50113);
 *   then the passphrase must be the key's own (50105). A forger learns nothing about the
 *   passphrase, the environment or the whitelist of a key whose secret key he does not hold.
 * - A demo key only with `x-simulated-trading: 1` and a live key only without it (50101).
 * - The caller's IP must be on the key's whitelist, when it has one (50110).
 */
export function authenticate(request: SignedRequest, store: OkxStore, demo: boolean): SimKey {
  const h = (name: string) => header(request.headers, name);
  const missing: Array<[string, string, string]> = [
    [OKX_HEADERS.apiKey, CODE.keyHeader, "OK-ACCESS-KEY"],
    [OKX_HEADERS.passphrase, CODE.passphraseHeader, "OK-ACCESS-PASSPHRASE"],
    [OKX_HEADERS.signature, CODE.signHeader, "OK-ACCESS-SIGN"],
    [OKX_HEADERS.timestamp, CODE.timestampHeader, "OK-ACCESS-TIMESTAMP"],
  ];
  for (const [name, code, shown] of missing) {
    if (!h(name)) throw new OkxSimError(code, `Request header "${shown}" cannot be empty`, 401);
  }
  const key = store.key(h(OKX_HEADERS.apiKey) as string);
  if (!key || key.removedAt !== undefined)
    throw new OkxSimError(CODE.invalidKey, "Invalid OK-ACCESS-KEY", 401);
  const timestamp = h(OKX_HEADERS.timestamp) as string;
  const at = ISO_MS.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  if (!Number.isFinite(at)) throw new OkxSimError(CODE.invalidTimestamp, "Invalid OK-ACCESS-TIMESTAMP", 401);
  if (Math.abs(store.now() - at) > TIMESTAMP_WINDOW_MS) {
    throw new OkxSimError(CODE.expired, "Timestamp request expired", 401);
  }
  const parts = { timestamp, method: request.method, requestPath: request.requestPath, body: request.body };
  if (!okxSignatureMatches(key.secretKey, parts, h(OKX_HEADERS.signature) as string)) {
    throw new OkxSimError(CODE.sign, "Invalid Sign", 401);
  }
  if (h(OKX_HEADERS.passphrase) !== key.passphrase) {
    throw new OkxSimError(CODE.passphrase, 'Request header "OK-ACCESS-PASSPHRASE" incorrect', 401);
  }
  if ((h(OKX_HEADERS.simulated) === "1") !== demo) {
    throw new OkxSimError(CODE.environment, "APIKey does not match current environment.", 401);
  }
  if (!ipAllowed(key.ips, request.callerIp)) {
    throw new OkxSimError(
      CODE.ip,
      `Your IP ${request.callerIp} is not included in your API key's IP whitelist.`,
      401,
    );
  }
  return key;
}
