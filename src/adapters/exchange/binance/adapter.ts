import {
  ExchangeKeyLimitError,
  ExchangePermanentError,
  ExchangeRetryableError,
  safeExchangeCode,
} from "../../../core/errors";
import type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "../../../core/ports/exchange";
import { KeyNotYetValidError, scrub, withinBudget, withinVerifyBudget } from "../http";
import type { BinanceConfig } from "./admin-secret";
import {
  BinanceClient,
  type BinanceSigner,
  type CallContext,
  parseResult,
  type Refusal,
  where,
} from "./client";
import { KEYS_PATH, listSubKeys, toExchangeKey } from "./listing";
import { compareScopes, normalizeFlags, normalizeIps, toCreateFlags, toIpRestriction } from "./scope";
import { accountSchema, createdSchema, deletedSchema } from "./wire";

export type BinanceCredentialSource = (account: string) => Promise<BinanceConfig>;

export interface BinanceExchangeOptions {
  credentials: BinanceCredentialSource;
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
  /** Milliseconds since epoch, for `timestamp` and budgets; default `Date.now`. */
  now?: () => number;
  /** How long `verifyKey` (and the listing of a just-created key) may keep retrying; default 8 s. */
  verifyBudgetMs?: number;
}

const KEY_ID = /^[A-Za-z0-9]{1,128}$/;
const LABEL = /^[\x20-\x7e]{1,64}$/;
const NOT_YET_VALID = new Set(["-2014", "-2015"]);

/**
 * The `Exchange` port on Binance's sub-account API management (`/sapi/v1/sub-account/subAccountApi`,
 * 2026-07-08), for one sub-account per keyshift account, managed with its master's key
 * (`docs/exchanges.md, Binance`). HMAC keys only (the create returns their `secretKey`); no
 * disable: revocation deletes. The sub-account is named by email; every listing is the master's
 * own view of that email's keys, with each key's IP restriction merged in.
 */
export class BinanceExchange implements Exchange {
  private readonly client: BinanceClient;
  private readonly now: () => number;
  private readonly verifyBudgetMs: number;

  constructor(private readonly opts: BinanceExchangeOptions) {
    this.now = opts.now ?? Date.now;
    this.verifyBudgetMs = opts.verifyBudgetMs ?? 8_000;
    this.client = new BinanceClient({
      timeoutMs: opts.timeoutMs ?? 5_000,
      now: this.now,
      fetchImpl: opts.fetchImpl,
    });
  }

  async capabilities(_account: string): Promise<ExchangeCapabilities> {
    return {
      exchange: "binance",
      disable: false,
      limitCounts: "active",
      // docs/exchanges.md, Binance: "Enable Spot & Margin Trading" lapses after 30 days unbound.
      unboundKeyExpiry:
        "Binance withdraws Spot & Margin trading from a key without an IP binding after 30 days",
    };
  }

  async listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }> {
    const { cfg, ctx, signer } = await this.context(account, "listKeys");
    const keys = await listSubKeys(this.client, ctx, signer);
    return { keys: keys.map(toExchangeKey), maxActiveKeys: cfg.maxKeys };
  }

  /**
   * 1. Translate the scope and IP list exactly (refuse what Binance cannot express); 2. create with
   * the label as `apiName`; 3. check the granted flags and binding in the answer; 4. find the key in
   * the listing (with its IP restriction) and check it again. A key that fails a check is left
   * under this rotation's label and the create fails: the abort revokes it through the ledger (I5:
   * no revocation without its ledger entry and audit), as for every exchange.
   */
  async createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey> {
    const { cfg, ctx, signer } = await this.context(account, `createKey ${input.label}`);
    const cannot = (why: string) => new ExchangePermanentError(`${where(ctx)}: ${why}; nothing was created`);
    if (!LABEL.test(input.label)) throw cannot("the label must be 1 to 64 printable characters");
    const scope = toCreateFlags(input.permissions);
    if ("problem" in scope) throw cannot(`the permissions cannot be expressed exactly: ${scope.problem}`);
    const ips = toIpRestriction(input.ipAllowlist);
    if ("problem" in ips) throw cannot(ips.problem);
    const answer = await this.client.call(ctx, signer, "POST", KEYS_PATH, {
      email: cfg.subAccountEmail,
      apiName: input.label,
      status: ips.status,
      ...("ipAddress" in ips ? { ipAddress: ips.ipAddress } : {}),
      ...scope.flags,
    });
    if (!answer.ok) throw await this.explainCreateRefusal(cfg, ctx, signer, answer);
    const created = parseResult(ctx, createdSchema, answer);
    ctx.secrets.push(created.secretKey);

    const wanted = [...input.permissions].sort();
    const wantedIps = "ipAddress" in ips ? ips.ipAddress.split(",") : [];
    const check = async (seen: { label: string; permissions: string[]; ips: string[] }, where_: string) => {
      const { broader, narrower } = compareScopes(wanted, seen.permissions);
      const problems = [
        ...(broader.length > 0 ? [`broader than the replaced key: ${broader.join(", ")}`] : []),
        ...(narrower.length > 0 ? [`missing ${narrower.join(", ")}`] : []),
        ...(seen.ips.join() !== wantedIps.join()
          ? [`bound to [${seen.ips.join(", ") || "any IP"}] instead of [${wantedIps.join(", ") || "any IP"}]`]
          : []),
        ...(seen.label !== input.label ? [`named "${seen.label}", not ${input.label}`] : []),
      ];
      if (problems.length > 0) throw this.discard(ctx, created.apiKey, `${where_} ${problems.join("; ")}`);
    };
    await check(
      {
        label: created.apiName,
        permissions: normalizeFlags(created),
        ips: normalizeIps(created.status === 2, created.ipList),
      },
      "the create answer shows it",
    );
    const listed = await withinBudget(
      async () => {
        const found = (await listSubKeys(this.client, ctx, signer)).find((k) => k.apikey === created.apiKey);
        if (!found)
          throw new ExchangeRetryableError(
            `${where(ctx)}: key ${created.apiKey} was created but is not listed yet`,
          );
        return toExchangeKey(found);
      },
      { budgetMs: this.verifyBudgetMs, now: this.now },
    );
    await check({ ...listed, ips: listed.ipAllowlist ?? [] }, "the listing shows it");
    return { ...listed, secret: created.secretKey };
  }

  /** `GET /api/v3/account` signed by the key itself (USER_DATA: needs only reading): it authenticates from here. */
  async verifyKey(account: string, key: ExchangeKeyCredential): Promise<void> {
    const { cfg, ctx } = await this.context(account, `verifyKey ${key.keyId}`, [key.secret]);
    const signer: BinanceSigner = {
      endpoint: cfg.endpoint,
      apiKey: key.keyId,
      secret: key.secret,
      recvWindowMs: cfg.recvWindowMs,
    };
    const attempt = async () => {
      try {
        return parseResult(ctx, accountSchema, await this.client.call(ctx, signer, "GET", "/api/v3/account"));
      } catch (err) {
        const code = (err as { exchangeCode?: string }).exchangeCode;
        if (code !== undefined && NOT_YET_VALID.has(code) && err instanceof Error)
          throw new KeyNotYetValidError(err);
        throw err;
      }
    };
    await withinVerifyBudget(attempt, { budgetMs: this.verifyBudgetMs, now: this.now });
  }

  async disableKey(account: string, keyId: string): Promise<void> {
    throw new ExchangePermanentError(
      `binance disableKey ${keyId} on account ${account}: Binance cannot disable a sub-account key (capabilities.disable is false); nothing was changed`,
    );
  }

  async enableKey(account: string, keyId: string): Promise<void> {
    throw new ExchangePermanentError(
      `binance enableKey ${keyId} on account ${account}: Binance cannot disable or enable a sub-account key; nothing was changed`,
    );
  }

  /**
   * Deletes with the master key. Only a key the listing of this sub-account shows is deleted, and
   * Binance documents no "no such key" code, so "not-found" means the exchange's own listing of
   * this email's keys does not show it — never a proxy's 404, an auth failure or another account.
   */
  async removeKey(account: string, keyId: string): Promise<"removed" | "not-found"> {
    const { ctx, signer } = await this.context(account, `removeKey ${keyId}`);
    if (!KEY_ID.test(keyId)) throw new ExchangePermanentError(`${where(ctx)}: not a Binance API key id`);
    return this.deleteListed(ctx, signer, keyId);
  }

  private async deleteListed(
    ctx: CallContext,
    signer: BinanceSigner,
    keyId: string,
  ): Promise<"removed" | "not-found"> {
    const listed = async () => (await listSubKeys(this.client, ctx, signer)).some((k) => k.apikey === keyId);
    if (!(await listed())) return "not-found";
    const answer = await this.client.call(ctx, signer, "DELETE", KEYS_PATH, {
      email: ctx.email,
      subAccountApiKey: keyId,
    });
    if (answer.ok) {
      parseResult(ctx, deletedSchema, answer);
      return "removed";
    }
    // Refused: gone meanwhile (another deleter, a lost earlier answer), or a real refusal.
    if (!(await listed())) return "not-found";
    throw new ExchangePermanentError(`${answer.message}; key ${keyId} is still listed`, answer.status);
  }

  /**
   * A just-created key that failed a check: never deleted here, outside the ledger. It carries this
   * rotation's label, so the abort finds it and revokes it through the ledger.
   */
  private discard(ctx: CallContext, keyId: string, why: string): Error {
    const fate = `key ${keyId} was created; keyshift's abort revokes it by its label, through the ledger`;
    return new ExchangePermanentError(scrub(`${where(ctx)}: ${why}; ${fate}`, ctx.secrets));
  }

  private async explainCreateRefusal(
    cfg: BinanceConfig,
    ctx: CallContext,
    signer: BinanceSigner,
    answer: Refusal,
  ): Promise<Error> {
    const code = { exchangeCode: safeExchangeCode(answer.code, ctx.secrets) };
    // Binance publishes no "too many keys" code: a refusal while the sub-account is full is the limit.
    const held = (await listSubKeys(this.client, ctx, signer)).length;
    if (held >= cfg.maxKeys) {
      return Object.assign(
        new ExchangeKeyLimitError(
          `${answer.message}; sub-account ${cfg.subAccountEmail} holds ${held} keys (limit ${cfg.maxKeys}): remove one first`,
        ),
        code,
      );
    }
    return Object.assign(new ExchangePermanentError(answer.message, answer.status), code);
  }

  private async context(account: string, operation: string, extraSecrets: string[] = []) {
    const cfg = await this.opts.credentials(account);
    const ctx: CallContext = {
      operation,
      account,
      email: cfg.subAccountEmail,
      secrets: [cfg.apiSecret, ...extraSecrets],
    };
    const signer: BinanceSigner = {
      endpoint: cfg.endpoint,
      apiKey: cfg.apiKey,
      secret: cfg.apiSecret,
      recvWindowMs: cfg.recvWindowMs,
    };
    return { cfg, ctx, signer };
  }
}
