import { ExchangePermanentError } from "../../../core/errors";
import type { ExchangeKey } from "../../../core/ports/exchange";
import { scrub } from "../http";
import { type CallContext, type GateClient, type GateSigner, parseAnswer, where } from "./client";
import { normalizeIps, normalizeScope } from "./scope";
import { keyListSchema, type SubAccountKey } from "./wire";

/** `state` 1 is "normal"; the reference's versions name 2 and 3 "locked"/"frozen" in either order. */
export const STATE_NORMAL = 1;

/**
 * Every key of the configured sub-account (`GET /sub_accounts/{user_id}/keys`, one answer, no
 * pages), signed by the main account's key. An entry naming another `user_id` is no answer about
 * this sub-account: the whole listing is refused rather than trusted.
 */
export async function listSubKeys(
  client: GateClient,
  ctx: CallContext,
  signer: GateSigner,
): Promise<SubAccountKey[]> {
  const answer = await client.call(ctx, signer, "GET", `/sub_accounts/${ctx.userId}/keys`);
  const keys = parseAnswer(ctx, keyListSchema, answer);
  const foreign = keys.find((key) => key.user_id !== undefined && String(key.user_id) !== ctx.userId);
  if (foreign) {
    throw new ExchangePermanentError(
      scrub(
        `${where(ctx)}: the listing holds key ${foreign.key} of user ${String(foreign.user_id)}`,
        ctx.secrets,
      ),
    );
  }
  return keys;
}

/** Unix seconds as Gate sends them (an integer, or its digits in older versions); NaN otherwise. */
function seconds(value: number | string | null | undefined): number {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : Number.NaN;
  return typeof value === "string" && /^\d{1,12}$/.test(value) ? Number(value) : Number.NaN;
}

/** A listed sub-account key in the port's terms; `last_access` becomes `lastUsedAt`. */
export function toExchangeKey(ctx: CallContext, key: SubAccountKey): ExchangeKey {
  const createdAt = seconds(key.created_at);
  if (!(createdAt > 0)) {
    throw new ExchangePermanentError(
      scrub(`${where(ctx)}: key ${key.key} has a creation time that is not Unix seconds`, ctx.secrets),
    );
  }
  const ips = normalizeIps(key.ip_whitelist);
  const lastAccess = seconds(key.last_access ?? 0);
  return {
    keyId: key.key,
    label: key.name ?? "",
    permissions: normalizeScope(key.perms),
    ...(ips.length > 0 ? { ipAllowlist: ips } : {}),
    status: key.state === undefined || key.state === STATE_NORMAL ? "active" : "disabled",
    createdAt: new Date(createdAt * 1000).toISOString(),
    ...(lastAccess > 0 ? { lastUsedAt: new Date(lastAccess * 1000).toISOString() } : {}),
  };
}
