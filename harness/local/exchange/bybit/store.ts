import { randomBytes, randomInt } from "node:crypto";
import type { KeyLookup } from "../request-log";
import { BybitSimError, paramError, RET } from "./errors";
import {
  lifetime,
  listedPermissions,
  MASTER_MANAGE_PERMISSIONS,
  type Permissions,
  parseIps,
  parsePermissions,
  parseReadOnly,
} from "./key-rules";

export interface SimKey {
  /** "Unique id. Internal use" */
  id: string;
  apiKey: string;
  secret: string;
  /** The UID the key belongs to (master or sub-account). */
  uid: string;
  /** The keyshift account name it serves (the sub-account's; a master's first account). */
  account: string;
  master: boolean;
  note: string;
  readOnly: boolean;
  /** Full listed form: every group present. */
  permissions: Permissions;
  /** Bound IPs; empty means unbound (and a 90-day lifetime). */
  ips: string[];
  createdAt: number;
  removedAt?: number;
}

interface SubAccount {
  uid: string;
  account: string;
  masterUid: string;
  maxKeys: number;
  uta: boolean;
  /** Key ids in creation order, removed ones included (cursors stay valid across deletions). */
  keyIds: string[];
}

interface Master {
  uid: string;
  account: string;
  subUids: string[];
}

/** Bybit API keys look like 18 alphanumerics; secrets like 36. */
export const API_KEY_FORMAT = /^[A-Za-z0-9]{18}$/;
const ALPHANUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function token(length: number): string {
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => ALPHANUM[b % ALPHANUM.length]).join("");
}

/** Masters, sub-accounts and keys of the simulated Bybit, with its rules. */
export class BybitStore implements KeyLookup {
  private readonly masters = new Map<string, Master>();
  private readonly subs = new Map<string, SubAccount>();
  private readonly accounts = new Map<string, SubAccount>();
  private readonly keys = new Map<string, SimKey>();

  constructor(
    private readonly defaultMaxKeys: number,
    readonly now: () => number,
  ) {}

  /** A sub-account named `account`, under a new master or under `master` (another account's). */
  createAccount(
    account: string,
    opts: { maxKeys?: number; master?: string; uta?: boolean; masterIps?: string[] } = {},
  ) {
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(account))
      throw paramError("account must match [A-Za-z0-9._:-]{1,64}");
    if (this.accounts.has(account)) throw paramError(`account ${account} already exists`);
    const maxKeys = opts.maxKeys ?? this.defaultMaxKeys;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw paramError("maxKeys must be a positive integer");
    let master: Master;
    let masterKey: SimKey;
    if (opts.master !== undefined) {
      const sibling = this.accounts.get(opts.master);
      if (!sibling) throw paramError(`no account ${opts.master} to share a master with`);
      master = this.masters.get(sibling.masterUid) as Master;
      masterKey = [...this.keys.values()].find((k) => k.master && k.uid === master.uid) as SimKey;
    } else {
      master = { uid: this.newUid(), account, subUids: [] };
      this.masters.set(master.uid, master);
      masterKey = this.addMasterKey(master.uid, {
        readOnly: false,
        wallet: MASTER_MANAGE_PERMISSIONS,
        ips: parseIps(opts.masterIps),
      });
    }
    const sub: SubAccount = {
      uid: this.newUid(),
      account,
      masterUid: master.uid,
      maxKeys,
      uta: opts.uta ?? true,
      keyIds: [],
    };
    this.subs.set(sub.uid, sub);
    this.accounts.set(account, sub);
    master.subUids.push(sub.uid);
    return {
      account,
      subuid: sub.uid,
      masterUid: master.uid,
      apiKey: masterKey.apiKey,
      apiSecret: masterKey.secret,
    };
  }

  /** Another key of `account`'s master (made on the website: master keys are console-only). */
  addMasterKey(masterUid: string, opts: { readOnly: boolean; wallet: string[]; ips?: string[] }): SimKey {
    const master = this.masters.get(masterUid);
    if (!master) throw paramError(`no master ${masterUid}`);
    return this.insert({
      uid: master.uid,
      account: master.account,
      master: true,
      note: "master",
      readOnly: opts.readOnly,
      permissions: { ContractTrade: ["Order", "Position"], Spot: ["SpotTrade"], Wallet: [...opts.wallet] },
      ips: opts.ips ?? [],
    });
  }

  /** `create-sub-api` by `masterUid`'s key: the sub-account must be its own, and not full. */
  createSubKey(masterUid: string, params: Record<string, unknown>): SimKey {
    const subuid = params.subuid;
    if (
      !(typeof subuid === "number" && Number.isSafeInteger(subuid)) &&
      !(typeof subuid === "string" && /^\d+$/.test(subuid))
    ) {
      throw paramError("subuid must be the sub account's UID (integer)");
    }
    const sub = this.ownedSub(masterUid, String(subuid));
    const readOnly = parseReadOnly(params.readOnly);
    const permissions = listedPermissions(parsePermissions(params.permissions), sub.uta);
    const ips = parseIps(params.ips);
    if (params.note !== undefined && typeof params.note !== "string")
      throw paramError("note must be a string");
    // Bybit publishes neither this limit nor its code: generic parameter error (docs/exchanges.md, Bybit).
    const held = this.subKeys(sub).length;
    if (held >= sub.maxKeys) {
      throw paramError(`sub account ${sub.uid} already has ${held} api keys, the maximum is ${sub.maxKeys}`);
    }
    const key = this.insert({
      uid: sub.uid,
      account: sub.account,
      master: false,
      note: (params.note as string) ?? "",
      readOnly,
      permissions,
      ips,
    });
    sub.keyIds.push(key.apiKey);
    return key;
  }

  /** The sub-account `subuid` if `masterUid` owns it; another master's is refused like a stranger's. */
  ownedSub(masterUid: string, subuid: string): SubAccount {
    const sub = this.subs.get(subuid);
    if (!sub || sub.masterUid !== masterUid) {
      throw new BybitSimError(
        RET.subNotOwned,
        "The subaccount specified does not belong to the parent account",
      );
    }
    return sub;
  }

  /** Live keys of a sub-account in creation order (expired ones included: they still exist). */
  subKeys(sub: SubAccount): SimKey[] {
    return sub.keyIds.map((id) => this.keys.get(id) as SimKey).filter((k) => k.removedAt === undefined);
  }

  /** Keys after `afterApiKey` (a cursor), in creation order, live only. */
  subKeysAfter(sub: SubAccount, afterApiKey: string | undefined): SimKey[] {
    const start = afterApiKey === undefined ? 0 : sub.keyIds.indexOf(afterApiKey) + 1;
    if (afterApiKey !== undefined && start === 0) throw paramError("invalid cursor");
    return sub.keyIds
      .slice(start)
      .map((id) => this.keys.get(id) as SimKey)
      .filter((k) => k.removedAt === undefined);
  }

  subAccountsOf(masterUid: string): SubAccount[] {
    return (this.masters.get(masterUid)?.subUids ?? []).map((uid) => this.subs.get(uid) as SubAccount);
  }

  subAccount(uid: string): SubAccount | undefined {
    return this.subs.get(uid);
  }

  account(name: string): SubAccount {
    const sub = this.accounts.get(name);
    if (!sub) throw paramError(`no account ${name}`);
    return sub;
  }

  remove(key: SimKey): void {
    key.removedAt = this.now();
  }

  /** Any key, removed included. */
  key(apiKey: string): SimKey | undefined {
    return this.keys.get(apiKey);
  }

  /** For the request log: an expired key is logged as disabled (it exists, it does not authenticate). */
  findKey(keyId: string) {
    const key = this.keys.get(keyId);
    if (!key) return undefined;
    const status =
      key.removedAt !== undefined ? "removed" : lifetime(key, this.now()).expired ? "disabled" : "active";
    return { account: key.account, keyId: key.apiKey, admin: key.master, status } as const;
  }

  /** Every key of an account's sub-account, removed ones included (test view). */
  allSubKeys(account: string): SimKey[] {
    return this.account(account).keyIds.map((id) => this.keys.get(id) as SimKey);
  }

  private insert(input: Omit<SimKey, "id" | "apiKey" | "secret" | "createdAt">): SimKey {
    let apiKey = token(18);
    while (this.keys.has(apiKey)) apiKey = token(18);
    const key: SimKey = {
      ...input,
      id: String(randomInt(10_000_000, 99_999_999)),
      apiKey,
      secret: token(36),
      createdAt: this.now(),
    };
    this.keys.set(apiKey, key);
    return key;
  }

  private newUid(): string {
    let uid = String(randomInt(100_000_000, 999_999_999));
    while (this.subs.has(uid) || this.masters.has(uid)) uid = String(randomInt(100_000_000, 999_999_999));
    return uid;
  }
}
