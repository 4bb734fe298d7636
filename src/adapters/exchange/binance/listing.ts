import { ExchangePermanentError } from "../../../core/errors";
import type { ExchangeKey } from "../../../core/ports/exchange";
import {
  type BinanceClient,
  type BinanceSigner,
  type CallContext,
  parseResult,
  refused,
  where,
} from "./client";
import { normalizeFlags, normalizeIps } from "./scope";
import { ipRestrictionSchema, keyPageSchema, type ListedKey } from "./wire";

export const KEYS_PATH = "/sapi/v1/sub-account/subAccountApi";
export const IP_RESTRICTION_PATH = "/sapi/v1/sub-account/subAccountApi/ipRestriction";

/** "Page size, default 30, maximum 100". */
const PAGE_SIZE = 100;
/** 10 pages of 100: far past any sub-account's keys; more means a listing that never ends. */
const MAX_PAGES = 10;

/** A listed key with the IP binding its row does not carry. */
export interface BoundKey extends ListedKey {
  ips: string[];
}

/** Every key row of the configured sub-account, all pages (the master may only list its own sub-accounts). */
export async function listKeyRows(
  client: BinanceClient,
  ctx: CallContext,
  signer: BinanceSigner,
): Promise<ListedKey[]> {
  const rows: ListedKey[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const answer = await client.call(ctx, signer, "GET", KEYS_PATH, {
      email: ctx.email,
      page,
      size: PAGE_SIZE,
    });
    if (!answer.ok) {
      throw refused(answer, `check "subAccountEmail" names a sub-account of the admin key's master account`);
    }
    const body = parseResult(ctx, keyPageSchema, answer);
    rows.push(...body.rows);
    if (body.rows.length < PAGE_SIZE || rows.length >= body.total) return rows;
  }
  throw new ExchangePermanentError(
    `${where(ctx)}: more than ${MAX_PAGES} pages of ${PAGE_SIZE} keys; refusing a listing that may be incomplete`,
  );
}

/** One key's IP binding (the listing has none): the addresses, sorted; empty when unrestricted. */
export async function ipBinding(
  client: BinanceClient,
  ctx: CallContext,
  signer: BinanceSigner,
  apiKey: string,
): Promise<string[]> {
  const answer = await client.call(ctx, signer, "GET", IP_RESTRICTION_PATH, {
    email: ctx.email,
    subAccountApiKey: apiKey,
  });
  const body = parseResult(ctx, ipRestrictionSchema, answer);
  if (body.apiKey !== apiKey) {
    throw new ExchangePermanentError(
      `${where(ctx)}: asked for the IP restriction of ${apiKey}, got another key's`,
    );
  }
  if (body.ipRestrict !== "true" && body.ipRestrict !== "false") {
    throw new ExchangePermanentError(
      `${where(ctx)}: key ${apiKey} has ipRestrict that is not "true"/"false"`,
    );
  }
  return normalizeIps(body.ipRestrict === "true", body.ipList);
}

/** Every key of the sub-account with its IP binding merged in (one restriction call per key). */
export async function listSubKeys(
  client: BinanceClient,
  ctx: CallContext,
  signer: BinanceSigner,
): Promise<BoundKey[]> {
  const rows = await listKeyRows(client, ctx, signer);
  const keys: BoundKey[] = [];
  // One at a time: each call weighs 3000 against the master's UID limit.
  for (const row of rows) keys.push({ ...row, ips: await ipBinding(client, ctx, signer, row.apikey) });
  return keys;
}

/** A listed key in the port's terms. Binance lists no disabled state: a listed key is active. */
export function toExchangeKey(key: BoundKey): ExchangeKey {
  return {
    keyId: key.apikey,
    label: key.apiName,
    permissions: normalizeFlags(key),
    ...(key.ips.length > 0 ? { ipAllowlist: key.ips } : {}),
    status: "active",
    createdAt: new Date(Number.isFinite(key.timestamp) ? key.timestamp : 0).toISOString(),
  };
}
