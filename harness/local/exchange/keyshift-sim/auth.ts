import type { IncomingHttpHeaders } from "node:http";
import { SimulatorError } from "../http-util";
import type { AccountStore, StoredKey } from "./accounts";
import { SIGNATURE_HEADERS, signatureMatches } from "./signing";

/** Per key; past this many nonces inside one tolerance window the caller is throttled. */
const MAX_NONCES_PER_KEY = 10_000;
const NONCE_FORMAT = /^[\x21-\x7e]{8,128}$/;
const TIMESTAMP_FORMAT = /^\d{1,16}$/;
const KEY_ID_FORMAT = /^k_[0-9a-f]{16}$/;

/**
 * Nonces seen per key. An entry can be forgotten once its timestamp is outside the tolerance
 * window: a replay carrying it would be refused for staleness anyway. That bounds memory to
 * what one window of traffic holds, capped per key.
 */
export class NonceCache {
  private readonly seen = new Map<string, Map<string, number>>();

  constructor(private readonly toleranceMs: number) {}

  /** Records the nonce; returns false when it was already used. Throws 429 when a key floods. */
  remember(keyId: string, nonce: string, timestampMs: number, nowMs: number): boolean {
    let nonces = this.seen.get(keyId);
    if (!nonces) {
      nonces = new Map();
      this.seen.set(keyId, nonces);
    }
    if (nonces.has(nonce)) return false;
    if (nonces.size >= MAX_NONCES_PER_KEY) this.prune(nonces, nowMs);
    if (nonces.size >= MAX_NONCES_PER_KEY) {
      throw new SimulatorError(429, "RATE_LIMITED", `too many requests for key ${keyId}`, {
        "retry-after": "1",
      });
    }
    nonces.set(nonce, timestampMs);
    return true;
  }

  private prune(nonces: Map<string, number>, nowMs: number): void {
    for (const [nonce, ts] of nonces) {
      if (ts < nowMs - this.toleranceMs) nonces.delete(nonce);
    }
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function unauthorized(code: string, message: string): SimulatorError {
  return new SimulatorError(401, code, message);
}

export interface AuthRequest {
  headers: IncomingHttpHeaders;
  method: string;
  pathWithQuery: string;
  body: string;
}

/**
 * Authenticates a signed request and returns the key that signed it.
 *
 * Order matters: the key's state (disabled/removed) is only revealed after the signature checks
 * out, and the nonce is only remembered for a valid signature so forged requests cannot fill the
 * nonce cache or burn a legitimate caller's nonce.
 */
export function authenticate(
  request: AuthRequest,
  store: AccountStore,
  nonces: NonceCache,
  toleranceMs: number,
  nowMs: number,
): StoredKey {
  const keyId = header(request.headers, SIGNATURE_HEADERS.keyId);
  const timestamp = header(request.headers, SIGNATURE_HEADERS.timestamp);
  const nonce = header(request.headers, SIGNATURE_HEADERS.nonce);
  const signature = header(request.headers, SIGNATURE_HEADERS.signature);
  if (!keyId || !timestamp || !nonce || !signature) {
    const missing = Object.values(SIGNATURE_HEADERS).filter((name) => !header(request.headers, name));
    throw unauthorized("MISSING_SIGNATURE", `missing header(s): ${missing.join(", ")}`);
  }
  const key = store.findKey(keyId);
  if (!key) {
    // Echo the id only when it looks like one: a caller who swapped id and secret must not see it echoed.
    const shown = KEY_ID_FORMAT.test(keyId) ? ` ${keyId}` : "";
    throw unauthorized("UNKNOWN_KEY", `unknown key${shown}`);
  }
  if (!TIMESTAMP_FORMAT.test(timestamp)) {
    throw unauthorized(
      "INVALID_TIMESTAMP",
      `${SIGNATURE_HEADERS.timestamp} must be milliseconds since epoch`,
    );
  }
  const timestampMs = Number(timestamp);
  const skew = timestampMs - nowMs;
  if (Math.abs(skew) > toleranceMs) {
    const direction = skew < 0 ? "old" : "far in the future";
    throw unauthorized(
      "TIMESTAMP_OUT_OF_WINDOW",
      `request timestamp is too ${direction} (tolerance ${toleranceMs} ms)`,
    );
  }
  if (!NONCE_FORMAT.test(nonce)) {
    throw unauthorized("INVALID_NONCE", `${SIGNATURE_HEADERS.nonce} must be 8 to 128 printable characters`);
  }
  const parts = {
    timestamp,
    nonce,
    method: request.method,
    pathWithQuery: request.pathWithQuery,
    body: request.body,
  };
  if (!signatureMatches(key.secret, parts, signature)) {
    throw unauthorized("BAD_SIGNATURE", `signature does not match for key ${key.keyId}`);
  }
  if (!nonces.remember(key.keyId, nonce, timestampMs, nowMs)) {
    throw unauthorized("NONCE_REPLAYED", `nonce already used for key ${key.keyId}`);
  }
  if (key.status === "removed") throw unauthorized("KEY_REMOVED", `key ${key.keyId} has been removed`);
  if (key.status === "disabled") throw unauthorized("KEY_DISABLED", `key ${key.keyId} is disabled`);
  // The protocol reports each key's last authentication in its listing, as Gate's `last_access`.
  key.lastUsedAt = new Date(nowMs).toISOString();
  return key;
}
