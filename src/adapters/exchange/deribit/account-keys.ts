import { ExchangeKeyLimitError, ExchangePermanentError } from "../../../core/errors";
import type { DeribitAdminConfig } from "./admin-secret";
import { parse } from "./answers";
import { adminHint, mayBeTheKeyLimit } from "./refusals";
import { type RpcContext, whereOf } from "./rpc";
import type { SecurityKeys } from "./security-keys";
import { accountSummarySchema, apiKeyListSchema, DERIBIT_MAX_KEYS, type DeribitApiKey } from "./wire";

/** `private/get_account_summary` params: `extended` brings the account's `id`, what every check compares. */
export const ACCOUNT_SUMMARY = { currency: "BTC", extended: true };

/**
 * The keys of the account an admin secret names, read only after proving which account the admin
 * key manages: `list_api_keys` does not name its account, so an unproven listing could "confirm" a
 * removal on another one. The admin key itself is never acted on.
 */
export class AccountKeys {
  constructor(private readonly keys: SecurityKeys) {}

  /** Every key of the account the admin secret names, the admin key included, after proving the account. */
  async listing(ctx: RpcContext, admin: DeribitAdminConfig): Promise<DeribitApiKey[]> {
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

  /** The key with `client_id` `keyId` in the proven listing; never the admin key. */
  async find(ctx: RpcContext, admin: DeribitAdminConfig, keyId: string): Promise<DeribitApiKey | undefined> {
    if (keyId === admin.clientId) {
      throw new ExchangePermanentError(`${whereOf(ctx)}: refusing to act on the admin key itself`);
    }
    return (await this.listing(ctx, admin)).find((key) => key.client_id === keyId);
  }

  /** A refused creation on a full account is the limit, whatever code Deribit used for it. */
  async limitOr(ctx: RpcContext, admin: DeribitAdminConfig, err: unknown): Promise<unknown> {
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
  async discard(ctx: RpcContext, admin: DeribitAdminConfig, id: number): Promise<void> {
    await this.keys.call(ctx, admin, "private/remove_api_key", { id }, adminHint).catch(() => undefined);
  }
}
