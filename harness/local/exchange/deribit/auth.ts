import {
  DERIBIT_TIMESTAMP_VALIDITY_MS,
  deribitSignatureMatches,
  parseDeribitAuthorization,
} from "../../../../src/adapters/exchange/deribit/signing";
import { ipAllowed } from "../caller-address";
import type { DeribitAccountStore, SimKey } from "./accounts";
import { authError, CODE, RpcError } from "./rpc-error";

const TIMESTAMP = /^\d{1,16}$/;
const NONCE = /^[\x21-\x7e]{1,128}$/;
/**
 * `data.reason` of the refusal of a caller outside the key's IP whitelist. Deribit publishes no
 * code of its own for it: 13009 is its authorization failure (docs/exchanges.md).
 */
export const IP_REFUSAL_REASON = "ip address not whitelisted for this api key";
/** Past this many live nonces one key is throttled, which bounds the memory a flood can take. */
const MAX_NONCES_PER_KEY = 10_000;

/**
 * Nonces seen per key while their timestamp is inside the validity window; a replay older than
 * that is refused as stale anyway, so they can be forgotten.
 */
export class NonceBook {
  private readonly seen = new Map<string, Map<string, number>>();

  /** Records the nonce; false when this key already used it. */
  remember(clientId: string, nonce: string, timestampMs: number, nowMs: number): boolean {
    let nonces = this.seen.get(clientId);
    if (!nonces) {
      nonces = new Map();
      this.seen.set(clientId, nonces);
    }
    if (nonces.has(nonce)) return false;
    if (nonces.size >= MAX_NONCES_PER_KEY) {
      for (const [old, ts] of nonces) if (ts < nowMs - DERIBIT_TIMESTAMP_VALIDITY_MS) nonces.delete(old);
    }
    if (nonces.size >= MAX_NONCES_PER_KEY) {
      throw new RpcError(CODE.tooManyRequests, "too_many_requests", { reason: "too many requests" }, 429);
    }
    nonces.set(nonce, timestampMs);
    return true;
  }
}

export interface SignedRequest {
  authorization: string | undefined;
  method: string;
  /** Path and query string as received. */
  uri: string;
  body: string;
  /** The caller's address as the exchange sees it, judged against the key's `ip_whitelist`. */
  callerIp: string;
}

/**
 * Authenticates a `deri-hmac-sha256` request and returns the key that signed it. The key's
 * disabled state is revealed only after the signature checks out, and a nonce is remembered only
 * for a valid signature, so a forger can neither probe keys nor burn a caller's nonces. A caller
 * outside the key's `ip_whitelist` is refused after the signature checks out (13009, see
 * docs/exchanges.md, "A caller outside the key's IP whitelist"), the admin key's calls as any other.
 */
export function authenticate(
  request: SignedRequest,
  store: DeribitAccountStore,
  nonces: NonceBook,
  nowMs: number,
): SimKey {
  const auth = parseDeribitAuthorization(request.authorization);
  if (!auth) {
    throw authError(
      CODE.authorizationRequired,
      "authorization_required",
      "missing or malformed deri-hmac-sha256 header",
    );
  }
  const key = store.byClientId(auth.clientId);
  if (!key || key.removed)
    throw authError(CODE.invalidCredentials, "invalid_credentials", "unknown client_id");
  if (!TIMESTAMP.test(auth.timestamp))
    throw authError(CODE.unauthorized, "unauthorized", "invalid timestamp");
  const timestampMs = Number(auth.timestamp);
  if (Math.abs(nowMs - timestampMs) > DERIBIT_TIMESTAMP_VALIDITY_MS) {
    throw authError(CODE.unauthorized, "unauthorized", "timestamp outside the 60 s validity window");
  }
  if (!NONCE.test(auth.nonce)) throw authError(CODE.unauthorized, "unauthorized", "invalid nonce");
  const parts = {
    timestamp: auth.timestamp,
    nonce: auth.nonce,
    method: request.method,
    uri: request.uri,
    body: request.body,
  };
  if (!deribitSignatureMatches(key.clientSecret, parts, auth.signature)) {
    throw authError(CODE.unauthorized, "unauthorized", "invalid signature");
  }
  if (!nonces.remember(key.clientId, auth.nonce, timestampMs, nowMs)) {
    throw authError(CODE.unauthorized, "unauthorized", "nonce already used");
  }
  if (!ipAllowed(key.ipWhitelist, request.callerIp)) {
    throw authError(CODE.unauthorized, "unauthorized", IP_REFUSAL_REASON);
  }
  if (!key.enabled) throw authError(CODE.invalidCredentials, "invalid_credentials", "api key is disabled");
  return key;
}
