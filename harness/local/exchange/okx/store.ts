import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { generatePassphrase, passphraseFormatOk } from "../../../../src/adapters/exchange/okx/scope";
import type { KeyLookup } from "../request-log";
import { CODE, OkxSimError, paramEmpty, paramError } from "./errors";

export interface SimKey {
  apiKey: string;
  secretKey: string;
  passphrase: string;
  /** The UID the key belongs to (master or sub-account). */
  uid: string;
  /** The keyshift account name it serves. */
  account: string;
  master: boolean;
  label: string;
  /** Granted tokens, `read_only` first: what `perm` lists. */
  perm: string[];
  /** Bound IPs; empty means unbound. */
  ips: string[];
  createdAt: number;
  removedAt?: number;
}

interface SubAccount {
  name: string;
  uid: string;
  account: string;
  masterUid: string;
  maxKeys: number;
  keyIds: string[];
}

/** OKX API keys look like UUIDs (`37c541a1-****-****-****-10fe7a038418` in the reference). */
export const API_KEY_FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** "Support up to 20 addresses." */
const MAX_IPS = 20;
const CREATABLE = ["read_only", "trade"];

/** Masters, sub-accounts and keys of the simulated OKX, with its rules. */
export class OkxStore implements KeyLookup {
  private readonly masters = new Map<string, { uid: string; account: string }>();
  private readonly subs = new Map<string, SubAccount>();
  private readonly accounts = new Map<string, SubAccount>();
  private readonly keys = new Map<string, SimKey>();

  constructor(
    private readonly defaultMaxKeys: number,
    readonly now: () => number,
  ) {}

  /** A sub-account for `account` under a new master, with the master's key bound to `masterIps`. */
  createAccount(account: string, opts: { maxKeys?: number; masterIps?: string[] } = {}) {
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(account)) throw paramError("account");
    if (this.accounts.has(account))
      throw new OkxSimError(CODE.param, `account ${account} already exists`, 400);
    const maxKeys = opts.maxKeys ?? this.defaultMaxKeys;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw paramError("maxKeys");
    const masterUid = this.newUid();
    this.masters.set(masterUid, { uid: masterUid, account });
    const masterKey = this.addMasterKey(masterUid, {
      perm: ["read_only", "trade"],
      ips: opts.masterIps ?? ["127.0.0.1"],
    });
    // "6 to 20 characters that include numbers and letters".
    const name = `${`sub${account.replace(/[^A-Za-z0-9]/g, "")}`.slice(0, 14)}${randomInt(100_000, 999_999)}`;
    const sub: SubAccount = { name, uid: this.newUid(), account, masterUid, maxKeys, keyIds: [] };
    this.subs.set(name, sub);
    this.accounts.set(account, sub);
    return {
      account,
      subAcct: name,
      masterUid,
      apiKey: masterKey.apiKey,
      secretKey: masterKey.secretKey,
      passphrase: masterKey.passphrase,
    };
  }

  addMasterKey(masterUid: string, opts: { perm: string[]; ips: string[] }): SimKey {
    const master = this.masters.get(masterUid);
    if (!master) throw paramError("masterUid");
    return this.insert({
      uid: master.uid,
      account: master.account,
      master: true,
      label: "master",
      perm: opts.perm,
      ips: opts.ips,
      passphrase: generatePassphrase(),
    });
  }

  /** `POST /api/v5/users/subaccount/apikey` by `masterUid`'s key, with OKX's parameter rules. */
  createSubKey(masterUid: string, body: Record<string, unknown>): SimKey {
    const sub = this.ownedSub(masterUid, body.subAcct);
    const label = requiredString(body, "label");
    const passphrase = requiredString(body, "passphrase");
    if (!passphraseFormatOk(passphrase))
      throw new OkxSimError(CODE.passphraseFormat, "The passphrase format is incorrect");
    const perm = parsePerm(body.perm);
    const ips = parseIps(body.ip);
    const live = this.subKeys(sub);
    if (live.some((k) => k.label === label)) {
      throw new OkxSimError(
        CODE.duplicateLabel,
        "Note name cannot be duplicate with the currently created APIKey note name",
      );
    }
    if (live.length >= sub.maxKeys) {
      throw new OkxSimError(CODE.keyLimit, `Only ${sub.maxKeys} APIKeys can be created per account`);
    }
    const key = this.insert({
      uid: sub.uid,
      account: sub.account,
      master: false,
      label,
      perm,
      ips,
      passphrase,
    });
    sub.keyIds.push(key.apiKey);
    return key;
  }

  /** `POST /api/v5/users/subaccount/modify-apikey`: label, perm and ip reset when passed; ip "" unbinds. */
  modifySubKey(masterUid: string, body: Record<string, unknown>): { sub: SubAccount; key: SimKey } {
    const sub = this.ownedSub(masterUid, body.subAcct);
    const key = this.subKey(sub, body.apiKey);
    if (body.label !== undefined) key.label = requiredString(body, "label");
    if (body.perm !== undefined) key.perm = parsePerm(body.perm);
    if (body.ip !== undefined) key.ips = parseIps(body.ip);
    return { sub, key };
  }

  /** The live key `apiKey` of `sub`; any other (removed, another sub-account's) is 59506. */
  subKey(sub: SubAccount, apiKey: unknown): SimKey {
    if (typeof apiKey !== "string" || apiKey === "") throw paramEmpty("apiKey");
    const key = this.keys.get(apiKey);
    if (!key || key.removedAt !== undefined || !sub.keyIds.includes(apiKey)) {
      throw new OkxSimError(CODE.keyNotFound, "APIKey does not exist");
    }
    return key;
  }

  /** The sub-account `name` if `masterUid` owns it; another master's is answered as unknown. */
  ownedSub(masterUid: string, name: unknown): SubAccount {
    if (typeof name !== "string" || name === "") throw paramEmpty("subAcct");
    const sub = this.subs.get(name);
    if (!sub || sub.masterUid !== masterUid)
      throw new OkxSimError(CODE.subAccountUnknown, "Sub-account does not exist");
    return sub;
  }

  subKeys(sub: SubAccount): SimKey[] {
    return sub.keyIds.map((id) => this.keys.get(id) as SimKey).filter((k) => k.removedAt === undefined);
  }

  account(name: string): SubAccount {
    const sub = this.accounts.get(name);
    if (!sub) throw paramError("account");
    return sub;
  }

  masterUidOf(uid: string): string {
    return this.masters.has(uid)
      ? uid
      : ([...this.subs.values()].find((s) => s.uid === uid)?.masterUid ?? uid);
  }

  remove(key: SimKey): void {
    key.removedAt = this.now();
  }

  /** Any key, removed included. */
  key(apiKey: string): SimKey | undefined {
    return this.keys.get(apiKey);
  }

  findKey(keyId: string) {
    const key = this.keys.get(keyId);
    if (!key) return undefined;
    const status = key.removedAt !== undefined ? "removed" : "active";
    return { account: key.account, keyId: key.apiKey, admin: key.master, status } as const;
  }

  /** Every key of an account's sub-account, removed ones included (test view). */
  allSubKeys(account: string): SimKey[] {
    return this.account(account).keyIds.map((id) => this.keys.get(id) as SimKey);
  }

  private insert(input: Omit<SimKey, "apiKey" | "secretKey" | "createdAt">): SimKey {
    const key: SimKey = {
      ...input,
      apiKey: randomUUID(),
      secretKey: randomBytes(16).toString("hex").toUpperCase(),
      createdAt: this.now(),
    };
    this.keys.set(key.apiKey, key);
    return key;
  }

  private newUid(): string {
    return String(randomInt(100_000_000_000, 999_999_999_999));
  }
}

function requiredString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (value === undefined || value === "") throw paramEmpty(name);
  if (typeof value !== "string") throw paramError(name);
  return value;
}

/** `perm`: `read_only` and/or `trade`, comma-separated; absent means read only. */
function parsePerm(value: unknown): string[] {
  if (value === undefined) return ["read_only"];
  if (typeof value !== "string") throw paramError("perm");
  const tokens = value.split(",").map((t) => t.trim());
  if (tokens.includes("withdraw")) {
    throw new OkxSimError(CODE.noWithdraw, "The sub account does not support the withdrawal function");
  }
  if (tokens.some((t) => !CREATABLE.includes(t))) throw paramError("perm");
  return tokens.includes("trade") ? ["read_only", "trade"] : ["read_only"];
}

/** `ip`: comma-separated addresses, at most 20; absent or "" means unbound. */
function parseIps(value: unknown): string[] {
  if (value === undefined || value === "") return [];
  if (typeof value !== "string") throw paramError("ip");
  const ips = [...new Set(value.split(",").map((e) => e.trim()))];
  if (ips.length > MAX_IPS)
    throw new OkxSimError(CODE.tooManyIps, "Each APIKey can bind up to 20 IP addresses");
  if (ips.some((ip) => isIP(ip.split("/")[0] ?? "") === 0)) throw paramError("ip");
  return ips;
}
