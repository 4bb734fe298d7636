import { randomBytes } from "node:crypto";
import type { KeyLookup } from "../request-log";
import type { CreatedKey, CreateKeyInput, KrakenSimKeyView } from "./types";

export interface SimKey {
  account: string;
  keyId: string;
  secret: string;
  name: string;
  permissions: Set<string>;
  ipAllowlist: string[];
  nonceWindow: number;
  validUntil: number;
  createdAt: number;
  modifiedAt: number;
  removedAt?: number;
  lastUsed: number;
  /** The highest nonce accepted, and the nonces accepted inside the window below it. */
  highestNonce: bigint;
  seenInWindow: Set<bigint>;
}

/** Kraken's API keys: 56 base64 characters (the support article's example is this long). */
export const API_KEY_FORMAT = /^[A-Za-z0-9+/]{56}$/;

const KNOWN_PERMISSIONS = new Set([
  "query-funds",
  "withdraw-funds",
  "deposit-funds",
  "earn-funds",
  "query-open-trades",
  "query-closed-trades",
  "modify-trades",
  "close-trades",
  "query-ledger",
  "export-data",
  "access-websockets",
]);

/** Keys per account, as a person manages them in the web UI. */
export class KrakenStore implements KeyLookup {
  private readonly accounts = new Set<string>();
  private readonly byId = new Map<string, SimKey>();

  constructor(readonly now: () => number) {}

  createAccount(account: string): { account: string } {
    if (this.accounts.has(account)) throw new Error(`account ${account} exists`);
    this.accounts.add(account);
    return { account };
  }

  private requireAccount(account: string): void {
    if (!this.accounts.has(account)) throw new Error(`no account ${account}`);
  }

  createKey(account: string, input: CreateKeyInput): CreatedKey {
    this.requireAccount(account);
    if (!/^[\x20-\x7e]{1,32}$/.test(input.name))
      throw new Error("key name must be 1 to 32 printable characters");
    if (this.keysOf(account).some((k) => k.removedAt === undefined && k.name === input.name)) {
      throw new Error(`a key named "${input.name}" exists`);
    }
    const unknown = input.permissions.filter((p) => !KNOWN_PERMISSIONS.has(p));
    if (unknown.length > 0) throw new Error(`unknown permission(s): ${unknown.join(", ")}`);
    const keyId = randomBytes(42).toString("base64");
    const secret = randomBytes(64).toString("base64");
    const now = this.now();
    this.byId.set(keyId, {
      account,
      keyId,
      secret,
      name: input.name,
      permissions: new Set(input.permissions),
      ipAllowlist: [...(input.ipAllowlist ?? [])],
      nonceWindow: input.nonceWindow ?? 0,
      validUntil: input.validUntil ?? 0,
      createdAt: now,
      modifiedAt: now,
      lastUsed: 0,
      highestNonce: 0n,
      seenInWindow: new Set(),
    });
    return { keyId, secret };
  }

  deleteKey(account: string, keyId: string): void {
    const key = this.byId.get(keyId);
    if (!key || key.account !== account || key.removedAt !== undefined) {
      throw new Error(`account ${account} has no key ${keyId.slice(0, 8)}…`);
    }
    key.removedAt = this.now();
  }

  key(keyId: string): SimKey | undefined {
    return this.byId.get(keyId);
  }

  expired(key: SimKey): boolean {
    return key.validUntil > 0 && this.now() >= key.validUntil * 1000;
  }

  keysOf(account: string): SimKey[] {
    return [...this.byId.values()].filter((k) => k.account === account);
  }

  view(account: string): KrakenSimKeyView[] {
    this.requireAccount(account);
    return this.keysOf(account).map((k) => ({
      keyId: k.keyId,
      name: k.name,
      permissions: [...k.permissions],
      ipAllowlist: [...k.ipAllowlist],
      nonceWindow: k.nonceWindow,
      status: k.removedAt !== undefined ? "removed" : this.expired(k) ? "expired" : "active",
      createdAt: new Date(k.createdAt).toISOString(),
      ...(k.validUntil > 0 ? { validUntil: k.validUntil } : {}),
      ...(k.removedAt !== undefined ? { removedAt: new Date(k.removedAt).toISOString() } : {}),
    }));
  }

  findKey(keyId: string) {
    const key = this.byId.get(keyId);
    if (!key) return undefined;
    const status =
      key.removedAt !== undefined || this.expired(key) ? ("removed" as const) : ("active" as const);
    return { account: key.account, keyId: key.keyId, admin: false, status };
  }
}
