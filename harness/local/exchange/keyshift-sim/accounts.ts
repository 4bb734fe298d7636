import { randomBytes } from "node:crypto";
import { SimulatorError } from "../http-util";

/** What a trading key may be allowed to do; a new key's permissions must be a subset. */
export const PERMISSION_CATALOGUE = ["read", "trade", "withdraw"] as const;

export type KeyStatus = "active" | "disabled" | "removed";

export interface StoredKey {
  keyId: string;
  secret: string;
  account: string;
  label: string;
  permissions: string[];
  status: KeyStatus;
  createdAt: string;
  removedAt?: string;
  /** When the key last authenticated (any signed request): the listing reports it. */
  lastUsedAt?: string;
  /** Admin keys manage the account's keys; they are not listed and do not count toward the limit. */
  admin: boolean;
}

/** A trading key as the exchange shows it: never the secret. */
export interface PublicKey {
  keyId: string;
  label: string;
  permissions: string[];
  status: "active" | "disabled";
  createdAt: string;
  lastUsedAt?: string;
}

interface Account {
  name: string;
  maxActiveKeys: number;
  /** Trading key ids in creation order. */
  keyIds: string[];
}

const ACCOUNT_NAME = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_LABEL_LENGTH = 64;

function newKeyId(): string {
  return `k_${randomBytes(8).toString("hex")}`;
}

function newSecret(): string {
  return randomBytes(32).toString("base64url");
}

function toPublic(key: StoredKey): PublicKey {
  return {
    keyId: key.keyId,
    label: key.label,
    permissions: [...key.permissions],
    status: key.status === "disabled" ? "disabled" : "active",
    createdAt: key.createdAt,
    ...(key.lastUsedAt ? { lastUsedAt: key.lastUsedAt } : {}),
  };
}

/** Accounts and keys of the simulated exchange, with the exchange's rules (key limit, catalogue). */
export class AccountStore {
  private readonly accounts = new Map<string, Account>();
  private readonly keysById = new Map<string, StoredKey>();

  constructor(
    private readonly defaultMaxActiveKeys: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  createAccount(
    name: string,
    opts: { maxActiveKeys?: number } = {},
  ): { adminKeyId: string; adminSecret: string } {
    if (!ACCOUNT_NAME.test(name)) {
      throw new SimulatorError(400, "INVALID_REQUEST", "account must match [A-Za-z0-9._:-]{1,64}");
    }
    if (this.accounts.has(name)) {
      throw new SimulatorError(409, "ACCOUNT_EXISTS", `account ${name} already exists`);
    }
    const maxActiveKeys = opts.maxActiveKeys ?? this.defaultMaxActiveKeys;
    if (!Number.isInteger(maxActiveKeys) || maxActiveKeys < 1) {
      throw new SimulatorError(400, "INVALID_REQUEST", "maxActiveKeys must be a positive integer");
    }
    this.accounts.set(name, { name, maxActiveKeys, keyIds: [] });
    const admin = this.insertKey(name, { label: "admin", permissions: ["admin"] }, true);
    return { adminKeyId: admin.keyId, adminSecret: admin.secret };
  }

  /** Creates a trading key, enforcing the active-key limit and the permission catalogue. */
  createKey(accountName: string, input: { label: unknown; permissions: unknown }): StoredKey {
    const account = this.account(accountName);
    const label = validateLabel(input.label);
    const permissions = validatePermissions(input.permissions);
    const active = account.keyIds
      .map((id) => this.keysById.get(id))
      .filter((key): key is StoredKey => key?.status === "active");
    if (active.length >= account.maxActiveKeys) {
      throw new SimulatorError(
        409,
        "KEY_LIMIT_EXCEEDED",
        `account ${account.name} already has ${active.length} active keys: ${active.map((k) => k.keyId).join(", ")}`,
      );
    }
    const key = this.insertKey(account.name, { label, permissions }, false);
    account.keyIds.push(key.keyId);
    return key;
  }

  listKeys(accountName: string): { account: string; keys: PublicKey[]; maxActiveKeys: number } {
    const account = this.account(accountName);
    const keys = this.tradingKeys(account)
      .filter((key) => key.status !== "removed")
      .map(toPublic);
    // The account is named in the answer so a caller can tell it listed the account it meant.
    return { account: account.name, keys, maxActiveKeys: account.maxActiveKeys };
  }

  /** Idempotent: disabling a disabled key succeeds. */
  disableKey(accountName: string, keyId: string): void {
    const key = this.liveTradingKey(accountName, keyId);
    key.status = "disabled";
  }

  removeKey(accountName: string, keyId: string): void {
    const key = this.liveTradingKey(accountName, keyId);
    key.status = "removed";
    key.removedAt = this.now().toISOString();
  }

  /** Any key, admin or trading, in any state (removed included), for authentication and the log. */
  findKey(keyId: string): StoredKey | undefined {
    return this.keysById.get(keyId);
  }

  /** Every trading key of the account, removed ones included, in creation order (test view). */
  allKeys(accountName: string): StoredKey[] {
    return this.tradingKeys(this.account(accountName));
  }

  private tradingKeys(account: Account): StoredKey[] {
    return account.keyIds.map((id) => this.keysById.get(id)).filter((key): key is StoredKey => !!key);
  }

  private liveTradingKey(accountName: string, keyId: string): StoredKey {
    this.account(accountName);
    const key = this.keysById.get(keyId);
    if (!key || key.admin || key.account !== accountName || key.status === "removed") {
      throw new SimulatorError(404, "KEY_NOT_FOUND", `account ${accountName} has no key ${keyId}`);
    }
    return key;
  }

  private account(name: string): Account {
    const account = this.accounts.get(name);
    if (!account) throw new SimulatorError(404, "ACCOUNT_NOT_FOUND", `no account ${name}`);
    return account;
  }

  private insertKey(
    account: string,
    input: { label: string; permissions: string[] },
    admin: boolean,
  ): StoredKey {
    let keyId = newKeyId();
    while (this.keysById.has(keyId)) keyId = newKeyId();
    const key: StoredKey = {
      keyId,
      secret: newSecret(),
      account,
      label: input.label,
      permissions: input.permissions,
      status: "active",
      createdAt: this.now().toISOString(),
      admin,
    };
    this.keysById.set(keyId, key);
    return key;
  }
}

function validateLabel(label: unknown): string {
  if (typeof label !== "string" || label.length === 0 || label.length > MAX_LABEL_LENGTH) {
    throw new SimulatorError(
      400,
      "INVALID_REQUEST",
      `label must be a string of 1 to ${MAX_LABEL_LENGTH} characters`,
    );
  }
  return label;
}

function validatePermissions(permissions: unknown): string[] {
  if (!Array.isArray(permissions) || permissions.length === 0) {
    throw new SimulatorError(400, "INVALID_REQUEST", "permissions must be a non-empty array");
  }
  const catalogue: readonly string[] = PERMISSION_CATALOGUE;
  const unknown = permissions.filter((p) => typeof p !== "string" || !catalogue.includes(p));
  if (unknown.length > 0) {
    throw new SimulatorError(
      400,
      "INVALID_PERMISSION",
      `unknown permission(s) ${unknown.map((p) => JSON.stringify(p)).join(", ")}; allowed: ${catalogue.join(", ")}`,
    );
  }
  if (new Set(permissions).size !== permissions.length) {
    throw new SimulatorError(400, "INVALID_PERMISSION", "permissions must not repeat");
  }
  return [...(permissions as string[])];
}
