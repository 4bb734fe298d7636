import {
  ExchangeKeyLimitError,
  ExchangeKeyNotFoundError,
  ExchangePermanentError,
} from "../../../core/errors";
import type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "../../../core/ports/exchange";
import { scrub, withinBudget } from "../http";
import type { DeribitAdminConfig } from "./admin-secret";
import { adminSecrets, context, parse, toExchangeKey } from "./answers";
import { adminHint, isDeribitCode, mayBeTheKeyLimit, refusalError } from "./refusals";
import { DeribitRpc, type RpcContext, whereOf } from "./rpc";
import { permissionsFromScope, samePermissions, scopeFromPermissions } from "./scope";
import { SecurityKeys } from "./security-keys";
import {
  AUTH_CODES,
  accountSummarySchema,
  apiKeyListSchema,
  apiKeySchema,
  DERIBIT_ERROR,
  DERIBIT_MAX_KEYS,
  type DeribitApiKey,
  okSchema,
} from "./wire";

export interface DeribitExchangeOptions {
  credentials: (account: string) => Promise<DeribitAdminConfig>;
  fetchImpl?: typeof fetch;
  /** Per HTTP call; default 5 s. */
  timeoutMs?: number;
  /** Milliseconds since the epoch: signature timestamps and TOTP windows. */
  now?: () => number;
  /** How long `verifyKey` keeps retrying a slow or failing check; default 10 s. */
  verifyBudgetMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /**
   * How long one call may wait for the next 30-s TOTP window (Deribit accepts each code once);
   * default 35 s. Past it the call fails as retryable.
   */
  tfaWaitBudgetMs?: number;
}

const LABEL = /^[A-Za-z0-9_]{1,16}$/;
const IP_OR_CIDR = /^[0-9A-Fa-f:.]{2,45}(\/\d{1,3})?$/;
const ACCOUNT_SUMMARY = { currency: "BTC", extended: true };

/**
 * The `Exchange` port on Deribit's JSON-RPC API, managing the keys of the account the admin key
 * belongs to. `keyId` is the key's `client_id` (what a trading service signs with); management
 * calls take Deribit's numeric `id`, looked up in an account-checked listing first.
 *
 * Every listing first proves which account the admin key manages (`get_account_summary`), so a
 * misconfigured admin secret fails instead of "confirming" a removal on another account. The
 * admin key itself is never listed, disabled or removed, and takes one of the account's 8 slots.
 */
export class DeribitExchange implements Exchange {
  private readonly credentials: (account: string) => Promise<DeribitAdminConfig>;
  private readonly rpc: DeribitRpc;
  private readonly keys: SecurityKeys;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly verifyBudgetMs: number;

  constructor(opts: DeribitExchangeOptions) {
    this.credentials = opts.credentials;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    this.verifyBudgetMs = opts.verifyBudgetMs ?? 10_000;
    this.rpc = new DeribitRpc({
      timeoutMs: opts.timeoutMs ?? 5_000,
      now: this.now,
      fetchImpl: opts.fetchImpl,
    });
    this.keys = new SecurityKeys(this.rpc, {
      now: this.now,
      sleep: this.sleep,
      waitBudgetMs: opts.tfaWaitBudgetMs ?? 35_000,
    });
  }

  /** Deribit can disable (and re-enable) a key, and disabled keys still take one of the 8 slots. */
  async capabilities(): Promise<ExchangeCapabilities> {
    return { exchange: "deribit", disable: true, limitCounts: "all" };
  }

  async listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }> {
    const admin = await this.credentials(account);
    const ctx = context("listKeys", account, admin);
    const keys = (await this.listing(ctx, admin)).filter((key) => key.client_id !== admin.clientId);
    return { keys: keys.map(toExchangeKey), maxActiveKeys: DERIBIT_MAX_KEYS - 1 };
  }

  async createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey> {
    const admin = await this.credentials(account);
    const ctx = context("createKey", account, admin);
    const refuse = (why: string) =>
      new ExchangePermanentError(`${whereOf(ctx)}: ${why}; nothing was created`);
    if (!LABEL.test(input.label)) {
      throw refuse("the label must be 1 to 16 letters, digits or underscores (Deribit's key name rule)");
    }
    const scope = scopeFromPermissions(input.permissions);
    if ("problem" in scope) throw refuse(`cannot express the permissions exactly: ${scope.problem}`);
    const ips = input.ipAllowlist ?? [];
    if (ips.some((ip) => !IP_OR_CIDR.test(ip)))
      throw refuse("the IP allow-list holds an entry that is no IP address");

    let created: DeribitApiKey;
    try {
      const params = { max_scope: scope.scope, name: input.label };
      created = parse(
        ctx,
        apiKeySchema,
        await this.keys.call(ctx, admin, "private/create_api_key", params, adminHint),
      );
    } catch (err) {
      throw await this.limitOr(ctx, admin, err);
    }
    const secret = created.client_secret ?? "";
    ctx.secrets.push(secret);
    const wanted = permissionsFromScope(scope.scope);
    const mismatch = !secret
      ? "no client_secret"
      : !samePermissions(permissionsFromScope(created.max_scope), wanted)
        ? "another scope than asked"
        : created.name !== undefined && created.name !== input.label
          ? "another name than asked"
          : undefined;
    if (mismatch) {
      await this.discard(ctx, admin, created.id);
      throw new ExchangePermanentError(
        `${whereOf(ctx)}: Deribit created key ${scrub(created.client_id, ctx.secrets)} with ${mismatch}; removed it`,
      );
    }
    let final = created;
    if (ips.length > 0) {
      // create_api_key takes no IP list: edit_api_key binds it before anyone but us holds the secret.
      try {
        const params = { id: created.id, max_scope: scope.scope, ip_whitelist: ips };
        final = parse(
          ctx,
          apiKeySchema,
          await this.keys.call(ctx, admin, "private/edit_api_key", params, adminHint),
        );
        if (final.id !== created.id || !samePermissions(final.ip_whitelist ?? [], ips)) {
          throw new ExchangePermanentError(
            `${whereOf(ctx)}: edit_api_key did not bind exactly the IP allow-list`,
          );
        }
      } catch (err) {
        await this.discard(ctx, admin, created.id);
        throw err;
      }
    }
    return { ...toExchangeKey({ ...final, name: input.label }), secret };
  }

  async verifyKey(account: string, key: ExchangeKeyCredential): Promise<void> {
    const admin = await this.credentials(account);
    const ctx: RpcContext = {
      operation: `verifyKey ${key.keyId}`,
      account,
      secrets: [...adminSecrets(admin), key.secret],
    };
    const signer = { endpoint: admin.endpoint, clientId: key.keyId, clientSecret: key.secret };
    const check = async () => {
      const answer = await this.rpc.call(ctx, signer, "private/get_account_summary", ACCOUNT_SUMMARY);
      if (answer.ok) {
        const who = parse(ctx, accountSummarySchema, answer.result);
        if (who.id !== admin.accountId) {
          throw new ExchangePermanentError(
            `${whereOf(ctx)}: the key authenticates as Deribit account ${who.id}, not ${admin.accountId}`,
          );
        }
        return;
      }
      if (answer.code === DERIBIT_ERROR.forbidden) {
        // The signature passed, the scope (account:none) did not: prove the account by the admin's listing.
        const listed = (await this.listKeys(account)).keys.find((k) => k.keyId === key.keyId);
        if (listed?.status === "active") return;
        throw new ExchangePermanentError(`${whereOf(ctx)}: the key is not an active key of this account`);
      }
      throw refusalError(ctx, answer, AUTH_CODES.has(answer.code) ? "the key does not authenticate" : "");
    };
    await withinBudget(check, { budgetMs: this.verifyBudgetMs, now: this.now, sleep: this.sleep });
  }

  async disableKey(account: string, keyId: string): Promise<void> {
    await this.setEnabled(account, keyId, false);
  }

  async enableKey(account: string, keyId: string): Promise<void> {
    await this.setEnabled(account, keyId, true);
  }

  async removeKey(account: string, keyId: string): Promise<"removed" | "not-found"> {
    const admin = await this.credentials(account);
    const ctx = context(`removeKey ${keyId}`, account, admin);
    const target = await this.find(ctx, admin, keyId);
    // Deribit's own listing of the checked account has no such key: not a proxy's 404, not a refusal.
    if (!target) return "not-found";
    let result: unknown;
    try {
      result = await this.keys.call(ctx, admin, "private/remove_api_key", { id: target.id }, adminHint);
    } catch (err) {
      if (isDeribitCode(err, DERIBIT_ERROR.notFound)) return "not-found";
      throw err;
    }
    if (!okSchema.safeParse(result).success) {
      throw new ExchangePermanentError(
        `${whereOf(ctx)}: answered without Deribit's "ok"; not counted as removed`,
      );
    }
    return "removed";
  }

  private async setEnabled(account: string, keyId: string, enabled: boolean): Promise<void> {
    const admin = await this.credentials(account);
    const ctx = context(`${enabled ? "enableKey" : "disableKey"} ${keyId}`, account, admin);
    const target = await this.find(ctx, admin, keyId);
    if (!target)
      throw new ExchangeKeyNotFoundError(`${whereOf(ctx)}: Deribit lists no key ${keyId} on this account`);
    const method = enabled ? "private/enable_api_key" : "private/disable_api_key";
    let result: unknown;
    try {
      result = await this.keys.call(ctx, admin, method, { id: target.id }, adminHint);
    } catch (err) {
      if (isDeribitCode(err, DERIBIT_ERROR.notFound)) {
        throw new ExchangeKeyNotFoundError(`${whereOf(ctx)}: Deribit has no key ${keyId} any more`);
      }
      throw err;
    }
    const key = parse(ctx, apiKeySchema, result);
    if (key.id !== target.id || key.enabled !== enabled) {
      throw new ExchangePermanentError(
        `${whereOf(ctx)}: the answer does not show key ${keyId} ${enabled ? "enabled" : "disabled"}`,
      );
    }
  }

  /** Every key of the account the admin secret names, the admin key included, after proving the account. */
  private async listing(ctx: RpcContext, admin: DeribitAdminConfig): Promise<DeribitApiKey[]> {
    const summary = await this.keys.call(
      ctx,
      admin,
      "private/get_account_summary",
      ACCOUNT_SUMMARY,
      adminHint,
    );
    const who = parse(ctx, accountSummarySchema, summary);
    if (who.id !== admin.accountId) {
      throw new ExchangePermanentError(
        `${whereOf(ctx)}: the admin key belongs to Deribit account ${who.id}, not ${admin.accountId} as the admin secret says; fix the admin secret`,
      );
    }
    const keys = parse(
      ctx,
      apiKeyListSchema,
      await this.keys.call(ctx, admin, "private/list_api_keys", {}, adminHint),
    );
    if (!keys.some((key) => key.client_id === admin.clientId)) {
      // list_api_keys does not name its account; a listing without the caller's own key is no proof.
      throw new ExchangePermanentError(
        `${whereOf(ctx)}: the listing does not show the admin key itself; not trusted`,
      );
    }
    return keys;
  }

  private async find(
    ctx: RpcContext,
    admin: DeribitAdminConfig,
    keyId: string,
  ): Promise<DeribitApiKey | undefined> {
    if (keyId === admin.clientId) {
      throw new ExchangePermanentError(`${whereOf(ctx)}: refusing to act on the admin key itself`);
    }
    return (await this.listing(ctx, admin)).find((key) => key.client_id === keyId);
  }

  /** A refused creation on a full account is the limit, whatever code Deribit used for it. */
  private async limitOr(ctx: RpcContext, admin: DeribitAdminConfig, err: unknown): Promise<unknown> {
    const code = Number((err as { exchangeCode?: string }).exchangeCode);
    if (!(err instanceof ExchangePermanentError) || !Number.isInteger(code) || !mayBeTheKeyLimit(code))
      return err;
    const held = await this.listing(ctx, admin).then(
      (keys) => keys.length,
      () => undefined,
    );
    if (held === undefined || held < DERIBIT_MAX_KEYS) return err;
    return Object.assign(
      new ExchangeKeyLimitError(
        `${whereOf(ctx)}: the account holds ${held} of Deribit's ${DERIBIT_MAX_KEYS} API keys (the admin key and disabled keys count); remove one first (Deribit error ${code})`,
      ),
      { exchangeCode: String(code) },
    );
  }

  /** Best effort: a key we cannot use must not linger; if this fails, its label lets the core find it. */
  private async discard(ctx: RpcContext, admin: DeribitAdminConfig, id: number): Promise<void> {
    await this.keys.call(ctx, admin, "private/remove_api_key", { id }, adminHint).catch(() => undefined);
  }
}
