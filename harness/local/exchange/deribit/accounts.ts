import { randomBytes } from "node:crypto";
import type { KeyLookup } from "../request-log";
import { CODE, invalidParams, RpcError } from "./rpc-error";

/** Deribit's scope groups and levels; a key's `max_scope` holds at most one token per group. */
const GROUPS = new Set(["account", "trade", "wallet", "block_trade", "block_rfq", "custody"]);
const LEVEL = { none: 0, read: 1, read_write: 2 } as const;
type Level = keyof typeof LEVEL;
const NAME = /^[A-Za-z0-9_]{0,16}$/;
const IP = /^[0-9A-Fa-f:.]{2,45}(\/\d{1,3})?$/;
const ACCOUNT = /^[A-Za-z0-9._:-]{1,64}$/;

export interface SimKey {
  id: number;
  clientId: string;
  clientSecret: string;
  account: string;
  name: string;
  /** `max_scope` tokens in the order given. */
  scope: string[];
  enabled: boolean;
  removed: boolean;
  removedAt?: string;
  ipWhitelist: string[];
  timestamp: number;
  /** The key an account is created with (made on the website): it manages the others. */
  admin: boolean;
}

export interface SimAccount {
  name: string;
  userId: number;
  maxKeys: number;
  /** Base32 2FA secret when the account requires security-key confirmation of key management. */
  totpSeed?: string;
  keyIds: number[];
}

/** Accounts and API keys of the simulated Deribit, with Deribit's rules (8 keys, scope, names). */
export class DeribitAccountStore implements KeyLookup {
  private readonly accounts = new Map<string, SimAccount>();
  private readonly keysById = new Map<number, SimKey>();
  private readonly keysByClientId = new Map<string, SimKey>();
  private nextKeyId = 1;
  private nextUserId = 10_001;

  constructor(private readonly now: () => number) {}

  createAccount(
    name: string,
    opts: { maxKeys?: number; adminScope?: string[]; totpSeed?: string; adminIpAllowlist?: string[] } = {},
  ) {
    if (!ACCOUNT.test(name)) throw new Error("account must match [A-Za-z0-9._:-]{1,64}");
    if (this.accounts.has(name)) throw new Error(`account ${name} already exists`);
    const maxKeys = opts.maxKeys ?? 8;
    if (!Number.isInteger(maxKeys) || maxKeys < 2) throw new Error("maxKeys must be an integer ≥ 2");
    const account: SimAccount = { name, userId: this.nextUserId++, maxKeys, keyIds: [] };
    if (opts.totpSeed) account.totpSeed = opts.totpSeed;
    this.accounts.set(name, account);
    const scope = parseScope(
      opts.adminScope ?? ["account:read_write", "trade:read_write", "wallet:read_write"],
    );
    const ipWhitelist = parseIps(opts.adminIpAllowlist ?? []);
    const admin = this.insert(account, { name: "keyshift_admin", scope, ipWhitelist }, true);
    return { adminKeyId: admin.clientId, adminSecret: admin.clientSecret, accountId: account.userId };
  }

  /** A key made by hand on the website: the limit holds, the admin's scope does not. */
  seedKey(
    accountName: string,
    input: { label: string; permissions: string[]; ipAllowlist?: string[] },
  ): SimKey {
    const account = this.account(accountName);
    const ipWhitelist = parseIps(input.ipAllowlist ?? []);
    return this.insert(
      account,
      { name: parseName(input.label), scope: parseScope(input.permissions), ipWhitelist },
      false,
    );
  }

  createKey(caller: SimKey, params: { maxScope: unknown; name: unknown }): SimKey {
    const scope = parseScope(params.maxScope);
    assertWithin(caller, scope);
    const name = parseName(params.name ?? "");
    return this.insert(this.account(caller.account), { name, scope, ipWhitelist: [] }, false);
  }

  editKey(
    caller: SimKey,
    id: number,
    params: { maxScope: unknown; name?: unknown; enabled?: boolean; ipWhitelist?: unknown },
  ): SimKey {
    const key = this.ownKey(caller, id);
    const scope = parseScope(params.maxScope);
    assertWithin(caller, scope);
    const name = params.name === undefined ? key.name : parseName(params.name);
    const ipWhitelist = params.ipWhitelist === undefined ? key.ipWhitelist : parseIps(params.ipWhitelist);
    Object.assign(key, { scope, name, ipWhitelist, timestamp: this.now() });
    if (params.enabled !== undefined) key.enabled = params.enabled;
    return key;
  }

  setEnabled(caller: SimKey, id: number, enabled: boolean): SimKey {
    const key = this.ownKey(caller, id);
    key.enabled = enabled;
    key.timestamp = this.now();
    return key;
  }

  removeKey(caller: SimKey, id: number): void {
    const key = this.ownKey(caller, id);
    key.removed = true;
    key.removedAt = new Date(this.now()).toISOString();
  }

  /** The caller's account's keys, the caller's own included, removed ones not. */
  listKeys(caller: SimKey): SimKey[] {
    return this.allKeys(caller.account).filter((key) => !key.removed);
  }

  byClientId(clientId: string): SimKey | undefined {
    return this.keysByClientId.get(clientId);
  }

  findKey(keyId: string) {
    const key = this.keysByClientId.get(keyId);
    if (!key) return undefined;
    const status = key.removed ? "removed" : key.enabled ? "active" : "disabled";
    return { account: key.account, keyId: key.clientId, admin: key.admin, status } as const;
  }

  /** Every key of the account, removed ones included, in creation order (test view). */
  allKeys(accountName: string): SimKey[] {
    return this.account(accountName)
      .keyIds.map((id) => this.keysById.get(id))
      .filter((key): key is SimKey => key !== undefined);
  }

  account(name: string): SimAccount {
    const account = this.accounts.get(name);
    if (!account) throw new Error(`no account ${name}`);
    return account;
  }

  private ownKey(caller: SimKey, id: number): SimKey {
    const key = this.keysById.get(id);
    if (!key || key.account !== caller.account || key.removed) {
      throw new RpcError(CODE.notFound, "not_found", { reason: "api key not found", param: "id" });
    }
    return key;
  }

  private insert(
    account: SimAccount,
    input: Pick<SimKey, "name" | "scope" | "ipWhitelist">,
    admin: boolean,
  ): SimKey {
    // Disabled keys keep their slot: only removal frees one.
    const held = this.allKeys(account.name).filter((key) => !key.removed).length;
    if (held >= account.maxKeys) {
      throw new RpcError(CODE.error, "error", { reason: `api key limit of ${account.maxKeys} reached` });
    }
    let clientId = randomBytes(6).toString("base64url");
    while (this.keysByClientId.has(clientId)) clientId = randomBytes(6).toString("base64url");
    const key: SimKey = {
      id: this.nextKeyId++,
      clientId,
      clientSecret: randomBytes(32).toString("base64url"),
      account: account.name,
      ...input,
      enabled: true,
      removed: false,
      timestamp: this.now(),
      admin,
    };
    this.keysById.set(key.id, key);
    this.keysByClientId.set(clientId, key);
    account.keyIds.push(key.id);
    return key;
  }
}

/** `max_scope` as a space-separated string (the examples) or an array of tokens (the OpenAPI type). */
export function parseScope(value: unknown): string[] {
  const tokens = Array.isArray(value) ? value : typeof value === "string" ? value.split(/\s+/) : undefined;
  if (!tokens) throw invalidParams("max_scope", "max_scope must be a string of scope tokens");
  const seen = new Set<string>();
  const out: string[] = [];
  for (const token of tokens) {
    if (token === "") continue;
    const [group, level, extra] = typeof token === "string" ? token.split(":") : [];
    if (
      !group ||
      !level ||
      extra !== undefined ||
      !GROUPS.has(group) ||
      !(level in LEVEL) ||
      seen.has(group)
    ) {
      throw invalidParams("max_scope", "invalid scope token");
    }
    seen.add(group);
    out.push(token as string);
  }
  return out;
}

/** Level of `group` in a scope; an absent group is none. */
export function levelOf(scope: readonly string[], group: string): number {
  const token = scope.find((t) => t.startsWith(`${group}:`));
  return token ? LEVEL[token.slice(group.length + 1) as Level] : 0;
}

/** A key cannot grant more than its own scope. */
function assertWithin(caller: SimKey, scope: readonly string[]): void {
  for (const token of scope) {
    const group = token.slice(0, token.indexOf(":"));
    if (levelOf(scope, group) > levelOf(caller.scope, group)) {
      throw new RpcError(CODE.scopeExceeded, "scope_exceeded", {
        reason: `${token} exceeds the caller's scope`,
      });
    }
  }
}

function parseName(value: unknown): string {
  if (typeof value !== "string" || !NAME.test(value)) {
    throw invalidParams("name", "only letters, numbers and underscores allowed; maximum length 16");
  }
  return value;
}

function parseIps(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === "string" ? [value] : undefined;
  if (!list || list.some((ip) => typeof ip !== "string" || !IP.test(ip))) {
    throw invalidParams("ip_whitelist", "ip_whitelist must be a list of IP addresses");
  }
  return [...(list as string[])];
}
