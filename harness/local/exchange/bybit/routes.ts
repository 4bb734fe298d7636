import type { ExchangeEndpoint } from "../faults";
import type { BybitActivityBook } from "./activity";
import { BybitSimError, paramError, permissionDenied, RET } from "./errors";
import {
  bybitTime,
  lifetime,
  MASTER_MANAGE_PERMISSIONS,
  SUB_KEY_CATALOGUE,
  SUB_SELF_DELETE_PERMISSIONS,
} from "./key-rules";
import type { BybitStore, SimKey } from "./store";

export type BybitOperation =
  | "queryApi"
  | "subApiKeys"
  | "subMembers"
  | "createSubApi"
  | "deleteSubApi"
  | "orderCreate"
  | "executionList"
  | "transferList";

/**
 * The v5 user endpoints keyshift uses. The sub-account listing shares the `listKeys` fault
 * endpoint: it is the first half of every listing.
 */
const ROUTES: Record<
  string,
  { method: "GET" | "POST"; operation: BybitOperation; endpoint: ExchangeEndpoint }
> = {
  "/v5/user/query-api": { method: "GET", operation: "queryApi", endpoint: "account" },
  "/v5/user/sub-apikeys": { method: "GET", operation: "subApiKeys", endpoint: "listKeys" },
  "/v5/user/submembers": { method: "GET", operation: "subMembers", endpoint: "listKeys" },
  "/v5/user/create-sub-api": { method: "POST", operation: "createSubApi", endpoint: "createKey" },
  "/v5/user/delete-sub-api": { method: "POST", operation: "deleteSubApi", endpoint: "removeKey" },
  // What a trading service does and what reports it (`activity.ts`): reads of the account.
  "/v5/order/create": { method: "POST", operation: "orderCreate", endpoint: "account" },
  "/v5/execution/list": { method: "GET", operation: "executionList", endpoint: "account" },
  "/v5/asset/transfer/query-universal-transfer-list": {
    method: "GET",
    operation: "transferList",
    endpoint: "account",
  },
};

export function matchRoute(method: string, pathname: string) {
  const route = ROUTES[pathname];
  return route && route.method === method ? route : undefined;
}

export interface OperationInput {
  query: URLSearchParams;
  /** Parsed JSON body of a POST. */
  body: Record<string, unknown>;
}

const hasAny = (granted: readonly string[] | undefined, wanted: readonly string[]) =>
  (granted ?? []).some((p) => wanted.includes(p));

/** Creating and deleting sub keys: a master's read-write key with a transfer or withdrawal permission. */
function requireManagingMaster(caller: SimKey): void {
  if (!caller.master)
    throw permissionDenied("Permission denied: only the master account's api key can do this");
  if (caller.readOnly || !hasAny(caller.permissions.Wallet, MASTER_MANAGE_PERMISSIONS)) {
    throw permissionDenied("Permission denied, please check your API key permissions.");
  }
}

/**
 * Cursors as v5 hands them out: a query-like string (`last=<apiKey>&page=<n>`, cf.
 * `first%3DBIOUSDT%26last%3DBIOUSDT` in docs `v5/market/instrument.mdx`) already
 * percent-encoded, so a client must send it back as received. The query string is decoded once
 * (as every parameter), so a cursor encoded twice arrives as `last%3D…` and is refused (10001).
 */
const encodeCursor = (apiKey: string, page: number) => encodeURIComponent(`last=${apiKey}&page=${page}`);
function decodeCursor(cursor: string | null): string | undefined {
  if (!cursor) return undefined;
  const fields = /^last=([^&=%]+)&page=\d+$/.exec(cursor);
  if (!fields?.[1]) throw paramError("invalid cursor");
  return fields[1];
}
function pageOf(cursor: string | null): number {
  return cursor ? Number(/&page=(\d+)$/.exec(cursor)?.[1] ?? 1) : 1;
}

function intParam(query: URLSearchParams, name: string, min: number, max: number, fallback: number): number {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  const value = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) throw paramError(`${name} must be an integer in [${min}, ${max}]`);
  return value;
}

export function keyInfo(key: SimKey, store: BybitStore) {
  const life = lifetime(key, store.now());
  const parent = key.master ? "0" : (store.subAccount(key.uid)?.masterUid ?? "0");
  return {
    id: key.id,
    note: key.note,
    apiKey: key.apiKey,
    readOnly: key.readOnly ? 1 : 0,
    secret: "",
    permissions: key.permissions,
    ips: key.ips.length > 0 ? [...key.ips] : ["*"],
    type: 1,
    deadlineDay: life.deadlineDay,
    expiredAt: life.expiredAt,
    createdAt: bybitTime(key.createdAt),
    unified: 0,
    uta: 1,
    userID: Number(key.uid),
    inviterID: 0,
    vipLevel: "No VIP",
    mktMakerLevel: "0",
    affiliateID: 0,
    rsaPublicKey: "",
    isMaster: key.master,
    parentUid: parent,
    kycLevel: "LEVEL_DEFAULT",
    kycRegion: "",
  };
}

function listedKey(key: SimKey, store: BybitStore) {
  const life = lifetime(key, store.now());
  return {
    id: key.id,
    ips: key.ips.length > 0 ? [...key.ips] : ["*"],
    apiKey: key.apiKey,
    note: key.note,
    status: life.status,
    expiredAt: life.expiredAt,
    createdAt: bybitTime(key.createdAt),
    type: 1,
    permissions: key.permissions,
    secret: "******",
    readOnly: key.readOnly,
    deadlineDay: life.deadlineDay,
    flag: "hmac",
  };
}

/** Runs an authenticated call as Bybit would for `caller`. */
export function runOperation(
  operation: BybitOperation,
  caller: SimKey,
  input: OperationInput,
  store: BybitStore,
  book: BybitActivityBook,
) {
  switch (operation) {
    case "orderCreate":
      return book.placeOrder(caller, input.body);
    case "executionList":
      return book.executionList(caller, input.query);
    case "transferList":
      return book.transferList(caller, input.query);
    case "queryApi":
      return keyInfo(caller, store);
    case "subMembers": {
      if (!caller.master || !hasAny(caller.permissions.Wallet, MASTER_MANAGE_PERMISSIONS)) {
        throw permissionDenied("Permission denied, please check your API key permissions.");
      }
      const size = intParam(input.query, "pageSize", 1, 100, 100);
      const start = input.query.get("nextCursor") ? Number(input.query.get("nextCursor")) : 0;
      if (!Number.isInteger(start) || start < 0) throw paramError("invalid nextCursor");
      const subs = store.subAccountsOf(caller.uid);
      const page = subs.slice(start, start + size);
      return {
        subMembers: page.map((s) => ({
          uid: s.uid,
          username: s.account,
          memberType: 1,
          status: 1,
          remark: "",
          accountMode: s.uta ? 5 : 1,
        })),
        nextCursor: start + size < subs.length ? String(start + size) : "0",
      };
    }
    case "subApiKeys": {
      if (!caller.master)
        throw permissionDenied("Permission denied: only the master account can call this endpoint");
      const subuid = input.query.get("subMemberId");
      if (!subuid) throw paramError("subMemberId is required");
      const sub = store.ownedSub(caller.uid, subuid);
      const limit = intParam(input.query, "limit", 1, 20, 20);
      const cursor = input.query.get("cursor");
      const rest = store.subKeysAfter(sub, decodeCursor(cursor));
      const page = rest.slice(0, limit);
      const last = page.at(-1);
      return {
        result: page.map((key) => listedKey(key, store)),
        nextPageCursor: rest.length > limit && last ? encodeCursor(last.apiKey, pageOf(cursor) + 1) : "",
      };
    }
    case "createSubApi": {
      requireManagingMaster(caller);
      const key = store.createSubKey(caller.uid, input.body);
      const granted = Object.fromEntries(
        Object.keys(SUB_KEY_CATALOGUE).map((g) => [g, key.permissions[g] ?? []]),
      );
      return {
        id: key.id,
        note: key.note,
        apiKey: key.apiKey,
        readOnly: key.readOnly ? 1 : 0,
        secret: key.secret,
        permissions: granted,
      };
    }
    case "deleteSubApi":
      deleteSubKey(caller, input.body, store);
      return {};
  }
}

/**
 * "Use the sub api key pending to be delete to call the endpoint or use the master api key to
 * delete corresponding sub account api key": a master must name the key (`apikey`), a sub key
 * must not (it deletes itself).
 */
function deleteSubKey(caller: SimKey, body: Record<string, unknown>, store: BybitStore): void {
  const named = body.apikey;
  if (!caller.master) {
    if (named !== undefined)
      throw paramError("apikey cannot be passed when a sub account api key deletes itself");
    if (caller.readOnly || !hasAny(caller.permissions.Wallet, SUB_SELF_DELETE_PERMISSIONS)) {
      throw permissionDenied("Permission denied, please check your API key permissions.");
    }
    store.remove(caller);
    return;
  }
  requireManagingMaster(caller);
  if (typeof named !== "string" || named === "")
    throw paramError("apikey is required when the master account deletes a sub account api key");
  const target = store.key(named);
  const owner = target && !target.master ? store.subAccount(target.uid) : undefined;
  // A key of another master's sub-account is answered like one that does not exist.
  if (!target || target.removedAt !== undefined || !owner || owner.masterUid !== caller.uid) {
    throw new BybitSimError(RET.params, `api key ${named.slice(0, 32)} does not exist`);
  }
  store.remove(target);
}
