import { randomBytes, randomInt } from "node:crypto";
import { isIP } from "node:net";
import { GATE_FUNCTIONS } from "../../../../src/adapters/exchange/gate/scope";
import type { KeyLookup } from "../request-log";
import { GateSimError, invalidParam, LABEL } from "./errors";

export interface SimPerm {
  name: string;
  read_only: boolean;
}

export interface SimKey {
  key: string;
  secret: string;
  /** The user the key belongs to (the main account or a sub-account). */
  uid: string;
  /** The keyshift account name it serves. */
  account: string;
  main: boolean;
  name: string;
  perms: SimPerm[];
  /** Bound IPs / CIDRs; empty means unbound. */
  ips: string[];
  mode: number;
  createdAt: number;
  updatedAt: number;
  /** When the key last authenticated (ms), as `last_access` reports it. */
  lastAccess?: number;
  removedAt?: number;
}

interface SubAccount {
  userId: string;
  account: string;
  mainUid: string;
  maxKeys: number;
  keyIds: string[];
}

/** Gate API keys are 32 hex characters (`701ec36898c8bb47b0e247f5847f5aa8` in gateapi-python issue #175). */
export const API_KEY_FORMAT = /^[0-9a-f]{32}$/;

/** Main accounts, sub-accounts and keys of the simulated Gate, with its rules. */
export class GateStore implements KeyLookup {
  private readonly mains = new Map<string, string>();
  private readonly subs = new Map<string, SubAccount>();
  private readonly accounts = new Map<string, SubAccount>();
  private readonly keys = new Map<string, SimKey>();
  /** Keys whose deletion is refused, and how many more times (the misuse demo's stuck removal). */
  private readonly refusals = new Map<string, number>();

  constructor(
    private readonly defaultMaxKeys: number,
    readonly now: () => number,
  ) {}

  /** A sub-account for `account` under a new main account, whose key is bound to `mainIps`. */
  createAccount(account: string, opts: { maxKeys?: number; mainIps?: string[] } = {}) {
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(account)) throw invalidParam("account");
    if (this.accounts.has(account))
      throw new GateSimError(LABEL.badRequest, `account ${account} already exists`);
    const maxKeys = opts.maxKeys ?? this.defaultMaxKeys;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw invalidParam("maxKeys");
    const mainUid = this.newUid();
    this.mains.set(mainUid, account);
    const mainKey = this.addMainKey(mainUid, { readOnly: false, ips: opts.mainIps ?? ["127.0.0.1"] });
    const sub: SubAccount = { userId: this.newUid(), account, mainUid, maxKeys, keyIds: [] };
    this.subs.set(sub.userId, sub);
    this.accounts.set(account, sub);
    return { account, userId: sub.userId, mainUid, apiKey: mainKey.key, apiSecret: mainKey.secret };
  }

  addMainKey(mainUid: string, opts: { readOnly: boolean; ips: string[] }): SimKey {
    const account = this.mains.get(mainUid);
    if (account === undefined) throw invalidParam("mainUid");
    const perms = ["wallet", "spot", "account"].map((name) => ({ name, read_only: opts.readOnly }));
    return this.insert({ uid: mainUid, account, main: true, name: "main", perms, ips: opts.ips, mode: 1 });
  }

  /** `POST /sub_accounts/{user_id}/keys` by `mainUid`'s key, with the parameter rules of `SubAccountKey`. */
  createSubKey(mainUid: string, userId: string, body: Record<string, unknown>): SimKey {
    const sub = this.ownedSub(mainUid, userId);
    const name = body.name === undefined ? "" : body.name;
    if (typeof name !== "string") throw invalidParam("name");
    const mode = body.mode ?? 1;
    if (mode !== 1 && mode !== 2) throw invalidParam("mode");
    const perms = parsePerms(body.perms);
    const ips = parseIps(body.ip_whitelist);
    if (this.subKeys(sub).length >= sub.maxKeys) {
      throw new GateSimError(
        LABEL.badRequest,
        `sub-account ${sub.userId} already holds ${sub.maxKeys} API keys`,
      );
    }
    const key = this.insert({ uid: sub.userId, account: sub.account, main: false, name, perms, ips, mode });
    sub.keyIds.push(key.key);
    return key;
  }

  /** `PUT …/keys/{key}`: name, perms and the whitelist as passed ("list will be cleared if no value is passed"). */
  updateSubKey(mainUid: string, userId: string, keyId: string, body: Record<string, unknown>): void {
    const key = this.subKey(this.ownedSub(mainUid, userId), keyId);
    if (body.name !== undefined) {
      if (typeof body.name !== "string") throw invalidParam("name");
      key.name = body.name;
    }
    if (body.perms !== undefined) key.perms = parsePerms(body.perms);
    key.ips = parseIps(body.ip_whitelist);
    key.updatedAt = this.now();
  }

  /** The live key `keyId` of `sub`; any other (removed, another sub-account's) is not found. */
  subKey(sub: SubAccount, keyId: string): SimKey {
    const key = this.keys.get(keyId);
    if (!key || key.removedAt !== undefined || !sub.keyIds.includes(keyId)) {
      throw new GateSimError(LABEL.notFound, `API key ${keyId} not found`, 404);
    }
    return key;
  }

  /** The sub-account `userId` if `mainUid` owns it; another main account's is answered as unknown. */
  ownedSub(mainUid: string, userId: string): SubAccount {
    const sub = this.subs.get(userId);
    if (!sub || sub.mainUid !== mainUid) {
      throw new GateSimError(LABEL.subAccountNotFound, `sub-account ${userId} not found`, 404);
    }
    return sub;
  }

  subKeys(sub: SubAccount): SimKey[] {
    return sub.keyIds.map((id) => this.keys.get(id) as SimKey).filter((k) => k.removedAt === undefined);
  }

  account(name: string): SubAccount {
    const sub = this.accounts.get(name);
    if (!sub) throw invalidParam("account");
    return sub;
  }

  /** Deletes the key, unless its deletion is to be refused a while longer. */
  remove(key: SimKey): void {
    const refusals = this.refusals.get(key.key) ?? 0;
    if (refusals > 0) {
      this.refusals.set(key.key, refusals - 1);
      throw new GateSimError(LABEL.serverError, "internal server error", 500);
    }
    key.removedAt = this.now();
  }

  refuseRemoval(keyId: string, attempts: number): void {
    if (!Number.isInteger(attempts) || attempts < 0) throw invalidParam("attempts");
    this.refusals.set(keyId, attempts);
  }

  /** A key authenticated: what `last_access` reports from now on. */
  touch(key: SimKey): void {
    key.lastAccess = this.now();
  }

  /** Any key, removed included. */
  key(keyId: string): SimKey | undefined {
    return this.keys.get(keyId);
  }

  findKey(keyId: string) {
    const key = this.keys.get(keyId);
    if (!key) return undefined;
    const status = key.removedAt !== undefined ? "removed" : "active";
    return { account: key.account, keyId: key.key, admin: key.main, status } as const;
  }

  /** Every key of an account's sub-account, removed ones included (test view). */
  allSubKeys(account: string): SimKey[] {
    return this.account(account).keyIds.map((id) => this.keys.get(id) as SimKey);
  }

  private insert(input: Omit<SimKey, "key" | "secret" | "createdAt" | "updatedAt">): SimKey {
    const now = this.now();
    const key: SimKey = {
      ...input,
      key: randomBytes(16).toString("hex"),
      secret: randomBytes(32).toString("hex"),
      createdAt: now,
      updatedAt: now,
    };
    this.keys.set(key.key, key);
    return key;
  }

  private newUid(): string {
    return String(randomInt(10_000_000, 99_999_999));
  }
}

/** `perms`: a list of `{name, read_only}` naming Gate's functions, each at most once. */
function parsePerms(value: unknown): SimPerm[] {
  if (!Array.isArray(value)) throw invalidParam("perms");
  const seen = new Set<string>();
  return value.map((entry: unknown) => {
    const perm = entry as { name?: unknown; read_only?: unknown } | null;
    const name = perm?.name;
    if (typeof name !== "string" || !(GATE_FUNCTIONS as readonly string[]).includes(name) || seen.has(name)) {
      throw invalidParam("perms.name");
    }
    if (perm?.read_only !== undefined && typeof perm.read_only !== "boolean")
      throw invalidParam("perms.read_only");
    seen.add(name);
    return { name, read_only: perm?.read_only === true };
  });
}

/** `ip_whitelist`: addresses or CIDRs; absent or empty means unbound. */
function parseIps(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((ip) => typeof ip !== "string")) throw invalidParam("ip_whitelist");
  const ips = [...new Set((value as string[]).map((ip) => ip.trim()))];
  if (ips.some((ip) => isIP(ip.split("/")[0] ?? "") === 0)) throw invalidParam("ip_whitelist");
  return ips;
}
