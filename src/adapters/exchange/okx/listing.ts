import { ExchangePermanentError } from "../../../core/errors";
import type { ExchangeKey } from "../../../core/ports/exchange";
import { scrub } from "../http";
import { type CallContext, type OkxClient, type OkxSigner, parseData, refused, where } from "./client";
import { normalizeIps, normalizeScope } from "./scope";
import { KEY_NOT_FOUND_CODES, type ListedKey, listedKeySchema, SUB_ACCOUNT_UNKNOWN } from "./wire";

/**
 * Every key of the configured sub-account (`GET /api/v5/users/subaccount/apikey?subAcct=…`, one
 * answer, no pages), or the one named `apiKey`. Signed by the master key: OKX answers 59510 for a
 * sub-account that is not this master's, so a listing is always the configured sub-account's own.
 */
export async function listSubKeys(
  client: OkxClient,
  ctx: CallContext,
  signer: OkxSigner,
  apiKey?: string,
): Promise<ListedKey[]> {
  const answer = await client.call(ctx, signer, "GET", "/api/v5/users/subaccount/apikey", {
    subAcct: ctx.subAcct,
    apiKey,
  });
  if (!answer.ok && apiKey !== undefined && KEY_NOT_FOUND_CODES.includes(answer.code)) return [];
  if (!answer.ok && answer.code === SUB_ACCOUNT_UNKNOWN) {
    throw refused(answer, `the admin key's master account has no sub-account ${ctx.subAcct}: fix "subAcct"`);
  }
  const keys = parseData(ctx, listedKeySchema, answer);
  // A filtered answer that names another key is no answer about this one.
  return apiKey === undefined ? keys : keys.filter((key) => key.apiKey === apiKey);
}

/** A listed sub-account key in the port's terms. */
export function toExchangeKey(ctx: CallContext, key: ListedKey): ExchangeKey {
  const createdMs = /^\d{1,16}$/.test(key.ts) ? Number(key.ts) : Number.NaN;
  if (!Number.isFinite(createdMs)) {
    throw new ExchangePermanentError(
      scrub(`${where(ctx)}: key ${key.apiKey} has a creation time that is not Unix ms`, ctx.secrets),
    );
  }
  const ips = normalizeIps(key.ip);
  return {
    keyId: key.apiKey,
    label: key.label,
    permissions: normalizeScope(key.perm),
    ...(ips.length > 0 ? { ipAllowlist: ips } : {}),
    // OKX lists no disabled state; an unbound trade key deleted after 14 idle days simply vanishes.
    status: "active",
    createdAt: new Date(createdMs).toISOString(),
  };
}
