import { ExchangeKeyNotFoundError, ExchangePermanentError } from "../../../core/errors";
import type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeActivityPage,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "../../../core/ports/exchange";
import { withinBudget } from "../http";
import { ACCOUNT_SUMMARY, AccountKeys } from "./account-keys";
import { DeribitActivity } from "./activity";
import type { DeribitAdminConfig } from "./admin-secret";
import { adminSecrets, context, parse, toExchangeKey } from "./answers";
import { createDeribitKey } from "./create-key";
import { adminHint, isDeribitCode, refusalError } from "./refusals";
import { DeribitRpc, type RpcContext, whereOf } from "./rpc";
import { SecurityKeys } from "./security-keys";
import {
  AUTH_CODES,
  accountSummarySchema,
  apiKeySchema,
  DERIBIT_ERROR,
  DERIBIT_MAX_KEYS,
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
   * How long one call may wait in process for the next 30-s TOTP window (Deribit accepts each
   * code once); default 5 s. Past it the call throws `TotpWindowError`, which the state machine
   * retries after 30 s: a Lambda does not spend its timeout sleeping.
   */
  tfaWaitBudgetMs?: number;
  /** Currencies whose transaction logs `activitySince` reads; default `ACTIVITY_CURRENCIES`. */
  activityCurrencies?: readonly string[];
}

/** A wait this short costs less than a retry; longer ones belong to the state machine. */
const TFA_WAIT_BUDGET_MS = 5_000;

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
  private readonly account: AccountKeys;
  private readonly activity: DeribitActivity;
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
      waitBudgetMs: opts.tfaWaitBudgetMs ?? TFA_WAIT_BUDGET_MS,
    });
    this.account = new AccountKeys(this.keys);
    this.activity = new DeribitActivity(this.keys, {
      now: this.now,
      sleep: this.sleep,
      ...(opts.activityCurrencies ? { currencies: opts.activityCurrencies } : {}),
    });
  }

  /**
   * Deribit can disable (and re-enable) a key, and disabled keys still take one of the 8 slots;
   * its access and transaction logs name the account, never the key.
   */
  async capabilities(): Promise<ExchangeCapabilities> {
    return { exchange: "deribit", disable: true, limitCounts: "all", activityAttribution: "account" };
  }

  async listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }> {
    const admin = await this.credentials(account);
    const ctx = context("listKeys", account, admin);
    const keys = (await this.account.listing(ctx, admin)).filter((key) => key.client_id !== admin.clientId);
    return { keys: keys.map(toExchangeKey), maxActiveKeys: DERIBIT_MAX_KEYS - 1 };
  }

  async createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey> {
    const admin = await this.credentials(account);
    const ctx = context("createKey", account, admin);
    return createDeribitKey({ keys: this.keys, account: this.account, ctx, admin }, input);
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
    const target = await this.account.find(ctx, admin, keyId);
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

  /** The account's logins and transactions since the cursor, with the admin key (`activity.ts`). */
  async activitySince(account: string, cursor: string | undefined): Promise<ExchangeActivityPage> {
    const admin = await this.credentials(account);
    return this.activity.since(context("activitySince", account, admin), admin, cursor);
  }

  private async setEnabled(account: string, keyId: string, enabled: boolean): Promise<void> {
    const admin = await this.credentials(account);
    const ctx = context(`${enabled ? "enableKey" : "disableKey"} ${keyId}`, account, admin);
    const target = await this.account.find(ctx, admin, keyId);
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
}
