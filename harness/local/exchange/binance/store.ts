import { randomBytes, randomInt } from "node:crypto";
import { isIP } from "node:net";
import type { KeyLookup } from "../request-log";
import { BinanceSimError, CODE, invalid, mandatory } from "./errors";
import type { SimFlags } from "./types";

export const FLAG_NAMES = [
  "canTrade",
  "canMarginLoanRepay",
  "canFuturesTrade",
  "canUniversalTransfer",
  "canVanillaOptions",
] as const;
export type Flags = Required<SimFlags>;

export interface SimKey {
  apiKey: string;
  secret: string;
  /** The keyshift account it serves (its sub-account's, or the master's first). */
  account: string;
  /** The sub-account's email; a master key's is its master's. */
  email: string;
  masterId: string;
  master: boolean;
  apiName: string;
  flags: Flags;
  /** Trusted IPs; empty means unrestricted. */
  ips: string[];
  createdAt: number;
  removedAt?: number;
}

interface SubAccount {
  account: string;
  email: string;
  masterId: string;
  maxKeys: number;
  /** Key ids in creation order, removed ones included. */
  keyIds: string[];
}

/** Binance API keys and secrets are 64 alphanumerics (the reference's examples). */
export const API_KEY_FORMAT = /^[A-Za-z0-9]{64}$/;
const ALPHANUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const token = (length: number) =>
  Array.from(randomBytes(length), (b) => ALPHANUM[b % ALPHANUM.length]).join("");
const noFlags = (): Flags => ({
  canTrade: false,
  canMarginLoanRepay: false,
  canFuturesTrade: false,
  canUniversalTransfer: false,
  canVanillaOptions: false,
});

/** "IP address list, max 500 chars", comma-separated single addresses. */
export function parseIpAddress(value: string | undefined): string[] {
  if (value === undefined || value === "") throw mandatory("ipAddress");
  if (value.length > 500) throw invalid("ipAddress", "At most 500 characters.");
  const ips = value.split(",").map((ip) => ip.trim());
  if (ips.some((ip) => isIP(ip) === 0)) throw invalid("ipAddress");
  return [...new Set(ips)];
}

function parseFlag(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  if (value === null) return false; // "default false"
  if (value !== "true" && value !== "false") throw invalid(name);
  return value === "true";
}

/** Masters, sub-accounts (by email) and keys of the simulated Binance, with its rules. */
export class BinanceStore implements KeyLookup {
  private readonly subs = new Map<string, SubAccount>();
  private readonly accounts = new Map<string, SubAccount>();
  private readonly keys = new Map<string, SimKey>();

  constructor(
    private readonly defaultMaxKeys: number,
    readonly now: () => number,
  ) {}

  createAccount(account: string, opts: { maxKeys?: number; masterIps?: string[] } = {}) {
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(account)) throw invalid("account");
    if (this.accounts.has(account)) throw invalid("account", `${account} already exists.`);
    const masterId = String(randomInt(100_000_000, 999_999_999));
    const sub: SubAccount = {
      account,
      email: `${account.toLowerCase().replace(/[^a-z0-9.-]/g, "-")}_virtual@${masterId}.sim`,
      masterId,
      maxKeys: opts.maxKeys ?? this.defaultMaxKeys,
      keyIds: [],
    };
    this.subs.set(sub.email, sub);
    this.accounts.set(account, sub);
    const master = this.addMasterKey(account, { canTrade: true, ips: opts.masterIps ?? [] });
    return { account, subAccountEmail: sub.email, apiKey: master.apiKey, apiSecret: master.secret };
  }

  addMasterKey(account: string, opts: { canTrade?: boolean; ips?: string[] }): SimKey {
    const sub = this.account(account);
    return this.insert({
      account,
      email: `master@${sub.masterId}.sim`,
      masterId: sub.masterId,
      master: true,
      apiName: "master",
      flags: { ...noFlags(), canTrade: opts.canTrade ?? true },
      ips: [...(opts.ips ?? [])],
    });
  }

  /** `POST /sapi/v1/sub-account/subAccountApi` by `masterId`, with its parameters. */
  createSubKey(masterId: string, params: URLSearchParams): SimKey {
    const sub = this.ownedSub(masterId, params.get("email"));
    const apiName = params.get("apiName");
    if (!apiName) throw mandatory("apiName");
    const status = params.get("status");
    if (status === null) throw mandatory("status");
    if (status !== "1" && status !== "2" && status !== "3") throw invalid("status");
    // Third-party restrictions and self-generated (RSA/Ed25519) keys are not simulated: refused, not ignored.
    if (status === "3") throw invalid("status", "Third-party IP restriction is not simulated.");
    if (params.has("publicKey")) throw invalid("publicKey", "Self-generated keys are not simulated.");
    const ips = status === "2" ? parseIpAddress(params.get("ipAddress") ?? undefined) : [];
    const flags = noFlags();
    for (const name of FLAG_NAMES) flags[name] = parseFlag(params, name);
    const held = this.subKeys(sub).length;
    if (held >= sub.maxKeys) throw invalid("email", `The sub-account already has ${held} API keys.`);
    const key = this.insert({
      account: sub.account,
      email: sub.email,
      masterId,
      master: false,
      apiName,
      flags,
      ips,
    });
    sub.keyIds.push(key.apiKey);
    return key;
  }

  /** The sub-account `email` if `masterId` owns it; another master's is refused like a stranger's. */
  ownedSub(masterId: string, email: string | null): SubAccount {
    if (!email) throw mandatory("email");
    const sub = this.subs.get(email);
    if (!sub || sub.masterId !== masterId)
      throw invalid("email", "Not a sub-account of this master account.");
    return sub;
  }

  /** A live key of `sub`, or the simulator's (unverified) refusal of an unknown one. */
  subKey(sub: SubAccount, apiKey: string | null): SimKey {
    if (!apiKey) throw mandatory("subAccountApiKey");
    const key = this.keys.get(apiKey);
    if (!key || key.master || key.email !== sub.email || key.removedAt !== undefined) {
      throw new BinanceSimError(CODE.invalid, "Data sent for parameter 'subAccountApiKey' is not valid.");
    }
    return key;
  }

  /** Live keys of a sub-account in creation order. */
  subKeys(sub: SubAccount): SimKey[] {
    return sub.keyIds.map((id) => this.keys.get(id) as SimKey).filter((k) => k.removedAt === undefined);
  }

  account(name: string): SubAccount {
    const sub = this.accounts.get(name);
    if (!sub) throw invalid("account", `No account ${name}.`);
    return sub;
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

  private insert(input: Omit<SimKey, "apiKey" | "secret" | "createdAt">): SimKey {
    let apiKey = token(64);
    while (this.keys.has(apiKey)) apiKey = token(64);
    const key: SimKey = { ...input, apiKey, secret: token(64), createdAt: this.now() };
    this.keys.set(apiKey, key);
    return key;
  }
}
