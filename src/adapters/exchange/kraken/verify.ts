import { ExchangeIpRefusedError, ExchangePermanentError } from "../../../core/errors";
import { type CallContext, KrakenClient, parseResult, type Refusal, refused, where } from "./client";
import type { MonotonicNonce } from "./nonce";
import { apiKeyInfoSchema, balanceSchema } from "./wire";

/** A key a person made in Kraken's web UI and handed to keyshift. */
export interface KrakenKeyCredential {
  /** The API key ("public key" in the UI), sent as `API-Key`. */
  keyId: string;
  /** The private key, base64, as the UI shows it once. */
  secret: string;
}

export interface KrakenCallOptions {
  /** `https://api.kraken.com` or the simulator. */
  endpoint: string;
  /** keyshift's account name, for messages. */
  account: string;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  nonce?: MonotonicNonce;
}

/** What `GetApiKeyInfo` says of the calling key (never its secret: Kraken does not return it). */
export interface KrakenKeyDescription {
  keyId: string;
  name: string;
  /** Kraken's permission names (`query-funds`, `modify-trades`, …; `KRAKEN_PERMISSIONS`). */
  permissions: string[];
  /** Empty: callable from anywhere. */
  ipAllowlist: string[];
  nonceWindow: number;
  /** UNIX seconds; absent when the key never expires (Kraken's `0`). */
  validUntil?: number;
}

const QUERY_FUNDS = "query-funds";

function setup(opts: KrakenCallOptions, operation: string, key: KrakenKeyCredential) {
  const client = new KrakenClient({
    timeoutMs: opts.timeoutMs ?? 5_000,
    fetchImpl: opts.fetchImpl,
    nonce: opts.nonce,
  });
  const ctx: CallContext = {
    operation: `${operation} ${key.keyId.slice(0, 8)}…`,
    account: opts.account,
    secrets: [key.secret],
  };
  const signer = { endpoint: opts.endpoint, apiKey: key.keyId, secret: key.secret };
  return { client, ctx, signer };
}

/** GetApiKeyInfo needs no permission: refused with "Permission denied", the key is refused as a whole. */
function ipRefused(ctx: CallContext, answer: Refusal): ExchangeIpRefusedError {
  return Object.assign(
    new ExchangeIpRefusedError(
      `${where(ctx)}: "${answer.said}" on GetApiKeyInfo, which needs no permission: the caller's address is outside the key's IP allow-list (Kraken names no distinct error for it); add keyshift's egress IPs to the key in Settings → API`,
      answer.status,
    ),
    { exchangeCode: "EGeneral:Permission denied" },
  );
}

/**
 * The calling key describes itself (`POST /0/private/GetApiKeyInfo`): name, permissions, IP
 * allow-list, nonce window, expiry. Read-only; signed by the key itself.
 */
export async function describeKey(
  key: KrakenKeyCredential,
  opts: KrakenCallOptions,
): Promise<KrakenKeyDescription> {
  const { client, ctx, signer } = setup(opts, "GetApiKeyInfo", key);
  const answer = await client.call(ctx, signer, "GetApiKeyInfo");
  if (!answer.ok && answer.kind === "permission") throw ipRefused(ctx, answer);
  const info = parseResult(ctx, apiKeyInfoSchema, answer);
  if (info.apiKey !== key.keyId) {
    throw new ExchangePermanentError(`${where(ctx)}: the answer describes another API key; not trusted`);
  }
  const validUntil = Number(info.validUntil ?? 0);
  return {
    keyId: info.apiKey,
    name: info.apiKeyName,
    permissions: [...info.permissions],
    ipAllowlist: [...info.ipAllowlist],
    nonceWindow: Number(info.nonceWindow ?? 0),
    ...(validUntil > 0 ? { validUntil } : {}),
  };
}

/**
 * Proves a key works with one read-only call it signs itself: `POST /0/private/Balance` (needs
 * "Query Funds"). Resolves when Kraken answers a balance. Throws:
 * - `ExchangePermanentError` for an unknown/deleted key, a wrong private key, a refused nonce, or a
 *   key without "Query Funds" (the message says which);
 * - `ExchangeIpRefusedError` when the refusal is the IP allow-list: a "Permission denied" on
 *   Balance is told apart by asking GetApiKeyInfo, which needs no permission;
 * - `ExchangeRetryableError` for rate limits, lockouts, outages and network errors.
 * Never places an order or moves funds; messages carry the key's first 8 characters, never the secret.
 */
export async function verifyKey(key: KrakenKeyCredential, opts: KrakenCallOptions): Promise<void> {
  const { client, ctx, signer } = setup(opts, "verifyKey (Balance)", key);
  const answer = await client.call(ctx, signer, "Balance");
  if (answer.ok || answer.kind !== "permission") {
    parseResult(ctx, balanceSchema, answer);
    return;
  }
  let description: KrakenKeyDescription;
  try {
    description = await describeKey(key, opts);
  } catch (err) {
    if (err instanceof ExchangeIpRefusedError) throw err;
    throw refused(
      answer,
      "the key lacks Query Funds or is used from outside its IP allow-list (GetApiKeyInfo could not tell)",
    );
  }
  if (!description.permissions.includes(QUERY_FUNDS)) {
    throw refused(
      answer,
      'the key lacks "Query Funds", which keyshift needs to verify it; add it in Settings → API',
    );
  }
  throw refused(answer, 'the key lists "Query Funds" yet Balance was refused');
}

/**
 * Whether Kraken still knows the key: false only on `EAPI:Invalid key` (deleted, expired or never
 * existed). A key Kraken recognises but refuses (IP allow-list, nonce, permission, signature)
 * still exists: true. For confirming a person deleted a key. One call per confirmation, not a
 * poll: repeated invalid-key errors earn `EGeneral:Temporary lockout`. Retryable errors propagate.
 */
export async function keyStillAuthenticates(
  key: KrakenKeyCredential,
  opts: KrakenCallOptions,
): Promise<boolean> {
  const { client, ctx, signer } = setup(opts, "keyStillAuthenticates (GetApiKeyInfo)", key);
  try {
    await client.call(ctx, signer, "GetApiKeyInfo");
    return true;
  } catch (err) {
    if ((err as { exchangeCode?: string }).exchangeCode === "EAPI:Invalid key") return false;
    if (err instanceof ExchangePermanentError && !(err instanceof ExchangeIpRefusedError)) {
      const code = (err as { exchangeCode?: string }).exchangeCode;
      if (code === "EAPI:Invalid signature" || code === "EAPI:Invalid nonce") return true;
    }
    throw err;
  }
}
