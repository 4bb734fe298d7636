import { randomBytes } from "node:crypto";
import { ExchangeIpRefusedError, ExchangePermanentError } from "../../src/core/errors";
import type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "../../src/core/ports";
import { ipAllowed } from "../ip-allowlist";
import { Faults } from "./faults";

type Method =
  | "createKey"
  | "listKeys"
  | "verifyKey"
  | "disableKey"
  | "enableKey"
  | "removeKey"
  | "describeOwnKey"
  | "keyStillExists";

/** What a person did at the exchange's web UI (never through keyshift's API calls). */
export interface WebAction {
  action: "create" | "delete";
  account: string;
  keyId: string;
  label?: string;
}

/** One call as the fake saw it. Credentials are recorded by key id only. */
export interface ExchangeCall {
  method: Method;
  account: string;
  keyId?: string;
  label?: string;
}

/**
 * The address keyshift calls this exchange from, when the world models one: a key bound to IPs
 * then authenticates only if its binding lets it in, as on Deribit, Bybit and OKX (judged with
 * the harness's own rule, not the core's).
 */
export type CallerAddress = string | undefined;

interface StoredKey extends ExchangeKey {
  secret: string;
}

interface Account {
  maxActiveKeys: number;
  keys: StoredKey[];
  /** Only a person at the web UI makes, disables and deletes its keys (Kraken, Coinbase…). */
  manual?: boolean;
}

/**
 * An exchange account API in memory: keys with status, an active-key limit, removed keys kept
 * aside, failures injectable per method (`faults.failNext`), a hook before each call, and every
 * call recorded. Secrets are random so a leak test can look for them.
 */
export class InMemoryExchange implements Exchange {
  readonly faults = new Faults<Method>();
  readonly calls: ExchangeCall[] = [];
  readonly removed: ExchangeKey[] = [];
  /** What persons did at the web UI of manual accounts, in order. */
  readonly webActions: WebAction[] = [];
  /** Every secret this exchange ever generated, for the no-leak scan. */
  readonly generatedSecrets: string[] = [];
  /** Runs after the call is recorded, before it acts (e.g. to assert on the ledger mid-call). */
  readonly before: Partial<Record<Method, (call: ExchangeCall) => Promise<void> | void>> = {};
  private readonly accounts = new Map<string, Account>();
  private counter = 0;

  /** `secret` lets a deterministic simulation choose key secrets; by default they are random. */
  constructor(private readonly newSecret: () => string = () => `sk_${randomBytes(24).toString("hex")}`) {}

  /** Every key of the account as it stands (no secrets), for the simulator's invariant checks. */
  snapshot(account: string): { maxActiveKeys: number; limitCounts: "active" | "all"; keys: ExchangeKey[] } {
    const acct = this.require(account);
    return {
      maxActiveKeys: acct.maxActiveKeys,
      limitCounts: acct.manual ? "active" : this.capabilitiesValue.limitCounts,
      keys: acct.keys.map(withoutSecret),
    };
  }

  addAccount(account: string, maxActiveKeys = 2): void {
    if (!this.accounts.has(account)) this.accounts.set(account, { maxActiveKeys, keys: [] });
  }

  /**
   * An account whose keys only a person makes and deletes, at the web UI (`keyManagement: "manual"`):
   * createKey, listKeys, disableKey, enableKey and removeKey are refused (`ExchangePermanentError`);
   * a key can verify itself, describe itself and say whether it still exists.
   */
  addManualAccount(account: string, maxActiveKeys = 5): void {
    this.addAccount(account, maxActiveKeys);
    this.require(account).manual = true;
  }

  isManual(account: string): boolean {
    return this.accounts.get(account)?.manual === true;
  }

  /** A person at the web UI makes a key (the account's key limit applies, as on the site). */
  webCreateKey(
    account: string,
    input: { label: string; permissions: string[]; ipAllowlist?: string[] },
  ): CreatedExchangeKey {
    const acct = this.require(account);
    if (acct.keys.filter((k) => k.status === "active").length >= acct.maxActiveKeys)
      throw new ExchangePermanentError(`web UI of ${account}: too many API keys`, 409);
    const created = this.mint(acct, input);
    this.webActions.push({ action: "create", account, keyId: created.keyId, label: input.label });
    return created;
  }

  /** A person at the web UI deletes a key; false when there was none. */
  webDeleteKey(account: string, keyId: string): boolean {
    const acct = this.require(account);
    const index = acct.keys.findIndex((k) => k.keyId === keyId);
    const [gone] = index >= 0 ? acct.keys.splice(index, 1) : [];
    if (!gone) return false;
    this.removed.push(withoutSecret(gone));
    this.webActions.push({ action: "delete", account, keyId });
    return true;
  }

  /** Arrange helper: a key created outside the workflow (not recorded as a call). */
  seedKey(
    account: string,
    input: { label: string; permissions: string[]; ipAllowlist?: string[] },
  ): CreatedExchangeKey {
    this.addAccount(account);
    return this.mint(this.require(account), input);
  }

  key(account: string, keyId: string): ExchangeKey | undefined {
    const found = this.require(account).keys.find((k) => k.keyId === keyId);
    return found ? withoutSecret(found) : undefined;
  }

  /** Arrange helper: change a key as someone on the exchange's website would (scope, expiry, IP binding). */
  edit(
    account: string,
    keyId: string,
    patch: Partial<Pick<ExchangeKey, "permissions" | "expiresAt" | "status" | "ipAllowlist">>,
  ): void {
    const found = this.require(account).keys.find((k) => k.keyId === keyId);
    if (!found) throw new Error(`no key ${keyId} on ${account}`);
    Object.assign(found, patch);
  }

  activeKeyIds(account: string): string[] {
    return this.require(account)
      .keys.filter((k) => k.status === "active")
      .map((k) => k.keyId);
  }

  callsTo(method: Method): ExchangeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Where keyshift's calls come from (see `CallerAddress`); unset: bindings are not enforced. */
  callerAddress: CallerAddress;

  /** When set, every key created from now on expires then (Bybit's unbound keys). */
  newKeyExpiresAt: string | undefined;

  /** Capabilities every account of this fake reports; `disable: true` makes revocation two-stage. */
  capabilitiesValue: ExchangeCapabilities = { exchange: "fake", disable: false, limitCounts: "active" };

  async capabilities(account?: string): Promise<ExchangeCapabilities> {
    if (account !== undefined && this.isManual(account))
      return { exchange: "fake-manual", disable: false, limitCounts: "active", keyManagement: "manual" };
    return { ...this.capabilitiesValue };
  }

  async createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey> {
    await this.enter({ method: "createKey", account, label: input.label });
    this.refuseManual(account, "make a key");
    const acct = this.require(account);
    const counted =
      this.capabilitiesValue.limitCounts === "all"
        ? acct.keys
        : acct.keys.filter((k) => k.status === "active");
    if (counted.length >= acct.maxActiveKeys) {
      throw new ExchangePermanentError(
        `exchange createKey on account ${account}: HTTP 409 KEY_LIMIT_EXCEEDED`,
        409,
      );
    }
    return this.mint(acct, input);
  }

  async listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }> {
    await this.enter({ method: "listKeys", account });
    this.refuseManual(account, "list keys");
    const acct = this.require(account);
    return { keys: acct.keys.map(withoutSecret), maxActiveKeys: acct.maxActiveKeys };
  }

  async verifyKey(account: string, key: ExchangeKeyCredential): Promise<void> {
    await this.enter({ method: "verifyKey", account, keyId: key.keyId });
    this.authenticate(account, key, "verifyKey");
  }

  /** The key describes itself, signed by itself (Kraken's GetApiKeyInfo): its label, scope and binding. */
  async describeOwnKey(account: string, key: ExchangeKeyCredential): Promise<ExchangeKey> {
    await this.enter({ method: "describeOwnKey", account, keyId: key.keyId });
    return withoutSecret(this.authenticate(account, key, "describeOwnKey"));
  }

  /**
   * A trading request signed by the key (a consumer's, or an attacker's holding a copy): it must
   * authenticate, and the exchange records when (`lastUsedAt`, as Gate's `last_access`).
   */
  useKey(account: string, key: ExchangeKeyCredential, at: Date): void {
    this.authenticate(account, key, "trade").lastUsedAt = at.toISOString();
  }

  /** Whether the exchange still knows the key, asked with the key itself (false: "invalid key"). */
  async keyStillExists(account: string, key: ExchangeKeyCredential): Promise<boolean> {
    await this.enter({ method: "keyStillExists", account, keyId: key.keyId });
    return this.require(account).keys.some((k) => k.keyId === key.keyId && k.secret === key.secret);
  }

  private authenticate(account: string, key: ExchangeKeyCredential, what: string): StoredKey {
    const found = this.require(account).keys.find((k) => k.keyId === key.keyId);
    if (found?.status !== "active" || found.secret !== key.secret) {
      throw new ExchangePermanentError(`exchange ${what} ${key.keyId} on account ${account}: HTTP 401`, 401);
    }
    if (this.callerAddress !== undefined && !ipAllowed(found.ipAllowlist, this.callerAddress)) {
      throw new ExchangeIpRefusedError(
        `exchange ${what} ${key.keyId} on account ${account}: caller ${this.callerAddress} is not on the key's IP binding`,
        403,
      );
    }
    return found;
  }

  private refuseManual(account: string, what: string): void {
    if (this.isManual(account))
      throw new ExchangePermanentError(
        `${account} is a manual account: its API cannot ${what}; a person does it in the web UI`,
      );
  }

  async disableKey(account: string, keyId: string): Promise<void> {
    await this.enter({ method: "disableKey", account, keyId });
    this.refuseManual(account, "disable a key");
    const found = this.require(account).keys.find((k) => k.keyId === keyId);
    if (!found) throw new ExchangePermanentError(`exchange disableKey ${keyId}: HTTP 404`, 404);
    found.status = "disabled";
  }

  async enableKey(account: string, keyId: string): Promise<void> {
    await this.enter({ method: "enableKey", account, keyId });
    this.refuseManual(account, "enable a key");
    const found = this.require(account).keys.find((k) => k.keyId === keyId);
    if (!found) throw new ExchangePermanentError(`exchange enableKey ${keyId}: HTTP 404`, 404);
    found.status = "active";
  }

  async removeKey(account: string, keyId: string): Promise<"removed" | "not-found"> {
    await this.enter({ method: "removeKey", account, keyId });
    this.refuseManual(account, "delete a key");
    const acct = this.require(account);
    const index = acct.keys.findIndex((k) => k.keyId === keyId);
    const [gone] = index >= 0 ? acct.keys.splice(index, 1) : [];
    if (!gone) return "not-found";
    this.removed.push(withoutSecret(gone));
    return "removed";
  }

  private async enter(call: ExchangeCall): Promise<void> {
    this.calls.push(call);
    await this.before[call.method]?.(call);
    this.faults.check(call.method);
  }

  private mint(acct: Account, input: CreateKeyInput): CreatedExchangeKey {
    this.counter += 1;
    const key: StoredKey = {
      keyId: `key-${this.counter}`,
      label: input.label,
      permissions: [...input.permissions],
      ...(input.ipAllowlist?.length ? { ipAllowlist: [...input.ipAllowlist] } : {}),
      ...(this.newKeyExpiresAt ? { expiresAt: this.newKeyExpiresAt } : {}),
      status: "active",
      createdAt: new Date(Date.UTC(2030, 0, 1, 0, 0, this.counter)).toISOString(),
      secret: this.newSecret(),
    };
    acct.keys.push(key);
    this.generatedSecrets.push(key.secret);
    return { ...withoutSecret(key), secret: key.secret };
  }

  private require(account: string): Account {
    const acct = this.accounts.get(account);
    if (!acct) throw new ExchangePermanentError(`exchange: no account ${account}`, 404);
    return acct;
  }
}

function withoutSecret(key: StoredKey): ExchangeKey {
  return {
    keyId: key.keyId,
    label: key.label,
    permissions: [...key.permissions],
    ...(key.ipAllowlist ? { ipAllowlist: [...key.ipAllowlist] } : {}),
    status: key.status,
    createdAt: key.createdAt,
    ...(key.expiresAt ? { expiresAt: key.expiresAt } : {}),
    ...(key.lastUsedAt ? { lastUsedAt: key.lastUsedAt } : {}),
  };
}
