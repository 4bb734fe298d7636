import { ExchangePermanentError } from "../../../core/errors";
import type { ExchangeKey } from "../../../core/ports/exchange";
import { scrub } from "../http";
import { type BybitClient, type BybitSigner, type CallContext, parseResult, refused, where } from "./client";
import { normalizeIps, normalizeScope } from "./scope";
import {
  KEY_STATUS_EXPIRED,
  keyPageSchema,
  type ListedKey,
  RET_SUB_NOT_OWNED,
  subMemberPageSchema,
} from "./wire";

/** Sub-keys per page: the documented maximum of `limit` on `GET /v5/user/sub-apikeys`. */
const KEY_PAGE_SIZE = 20;
/** 50 pages of 20: far past any sub-account's keys; more means a cursor that never ends. */
const MAX_KEY_PAGES = 50;
/** Sub-accounts per page: the documented maximum of `pageSize` on `GET /v5/user/submembers`. */
const SUB_PAGE_SIZE = 100;
/** 100 pages of 100 sub-accounts; a master with more cannot be confirmed in one listing. */
const MAX_SUB_PAGES = 100;

/**
 * Confirms the signer is the master of `subuid`: the sub-key list carries no UID, so without this
 * a listing for another account could "confirm" a removal. Pages `GET /v5/user/submembers`
 * (master keys only) until the UID shows up.
 */
async function confirmSubAccount(client: BybitClient, ctx: CallContext, signer: BybitSigner): Promise<void> {
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_SUB_PAGES; page++) {
    const answer = await client.call(ctx, signer, "GET", "/v5/user/submembers", {
      pageSize: String(SUB_PAGE_SIZE),
      nextCursor: cursor,
    });
    if (!answer.ok) {
      throw refused(
        answer,
        "the admin key must be the master account's key (sub-account keys cannot list sub-accounts)",
      );
    }
    const body = parseResult(ctx, subMemberPageSchema, answer);
    if (body.subMembers.some((member) => member.uid === ctx.subuid)) return;
    if (body.nextCursor === "0" || body.nextCursor === "") {
      throw new ExchangePermanentError(
        `${where(ctx)}: the admin key's master account has no sub-account ${ctx.subuid}: fix "subuid" or use that sub-account's master key`,
      );
    }
    if (seen.has(body.nextCursor))
      throw new ExchangePermanentError(`${where(ctx)}: sub-account cursor repeats`);
    seen.add(body.nextCursor);
    cursor = body.nextCursor;
  }
  throw new ExchangePermanentError(
    `${where(ctx)}: sub-account ${ctx.subuid} not found in the first ${MAX_SUB_PAGES * SUB_PAGE_SIZE} sub-accounts of the admin key's master`,
  );
}

/** Every key of the configured sub-account, after confirming the signer manages it; all pages. */
export async function listSubKeys(
  client: BybitClient,
  ctx: CallContext,
  signer: BybitSigner,
): Promise<ListedKey[]> {
  await confirmSubAccount(client, ctx, signer);
  const keys: ListedKey[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < MAX_KEY_PAGES; page++) {
    const answer = await client.call(ctx, signer, "GET", "/v5/user/sub-apikeys", {
      subMemberId: ctx.subuid,
      limit: KEY_PAGE_SIZE,
      cursor,
    });
    if (!answer.ok && answer.retCode === RET_SUB_NOT_OWNED) {
      throw refused(answer, `sub-account ${ctx.subuid} does not belong to the admin key's master account`);
    }
    const body = parseResult(ctx, keyPageSchema, answer);
    keys.push(...body.result);
    if (body.nextPageCursor === "") return keys;
    if (seen.has(body.nextPageCursor)) throw new ExchangePermanentError(`${where(ctx)}: key cursor repeats`);
    seen.add(body.nextPageCursor);
    cursor = body.nextPageCursor;
  }
  throw new ExchangePermanentError(
    `${where(ctx)}: more than ${MAX_KEY_PAGES} pages of ${KEY_PAGE_SIZE} keys; refusing a listing that may be incomplete`,
  );
}

/** A listed sub-key in the port's terms. */
export function toExchangeKey(ctx: CallContext, key: ListedKey): ExchangeKey {
  if (typeof key.readOnly === "number" && key.readOnly !== 0 && key.readOnly !== 1) {
    throw new ExchangePermanentError(
      scrub(`${where(ctx)}: key ${key.apiKey} has readOnly ${key.readOnly}, not 0/1`, ctx.secrets),
    );
  }
  const ips = normalizeIps(key.ips);
  const expiry = key.expiredAt === undefined ? Number.NaN : Date.parse(key.expiredAt);
  return {
    keyId: key.apiKey,
    label: key.note,
    permissions: normalizeScope(key.readOnly === true || key.readOnly === 1, key.permissions),
    ...(ips.length > 0 ? { ipAllowlist: ips } : {}),
    // An expired key still exists (and is listed) but no longer authenticates.
    status: key.status === KEY_STATUS_EXPIRED ? "disabled" : "active",
    createdAt: key.createdAt,
    // Bound keys report the epoch (or nothing): they do not expire unless the password changes.
    ...(expiry > 0 ? { expiresAt: new Date(expiry).toISOString() } : {}),
  };
}
