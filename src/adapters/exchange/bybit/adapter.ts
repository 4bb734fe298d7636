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
  ExchangeActivityPage,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "../../../core/ports/exchange";
import { KeyNotYetValidError, scrub, withinBudget, withinVerifyBudget } from "../http";
import { observerGaps, refuseObserverRemoval, withoutObserver } from "../observer-key";
import { bybitActivity } from "./activity";
import type { BybitConfig } from "./admin-secret";
import { BybitClient, type BybitSigner, type CallContext, parseResult, type Refusal, where } from "./client";
import { listSubKeys, toExchangeKey } from "./listing";
import { normalizeScope, requestedPart, toCreateScope, toIpsParameter } from "./scope";
import { createdSchema, deletedSchema, keyInfoSchema, RET_SUB_NOT_OWNED } from "./wire";

export type BybitCredentialSource = (account: string) => Promise<BybitConfig>;

export interface BybitExchangeOptions {
  credentials: BybitCredentialSource;
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
  /** Milliseconds since epoch, for `X-BAPI-TIMESTAMP` and budgets; default `Date.now`. */
  now?: () => number;
  /** How long `verifyKey` (and the listing of a just-created key) may keep retrying; default 8 s. */
  verifyBudgetMs?: number;
}

const KEY_ID = /^[\x21-\x7e]{1,128}$/;
const LABEL = /^[\x20-\x7e]{1,64}$/;

/**
 * The `Exchange` port on Bybit v5, for one sub-account per keyshift account, managed with its
 * master's key (`docs/exchanges.md, Bybit`). No disable: revocation deletes. Every management call
 * first confirms the master owns the sub-account (the sub-key list names no UID).
 */
export class BybitExchange implements Exchange {
  private readonly client: BybitClient;
  private readonly now: () => number;
  private readonly verifyBudgetMs: number;

  constructor(private readonly opts: BybitExchangeOptions) {
    this.now = opts.now ?? Date.now;
    this.verifyBudgetMs = opts.verifyBudgetMs ?? 8_000;
    this.client = new BybitClient({
      timeoutMs: opts.timeoutMs ?? 5_000,
      now: this.now,
      fetchImpl: opts.fetchImpl,
    });
  }

  async capabilities(_account: string): Promise<ExchangeCapabilities> {
    return {
      exchange: "bybit",
      disable: false,
      limitCounts: "active",
      // "If the API key is not bound to an IP, it will expire after 90 days" (docs/exchanges.md, Bybit).
      unboundKeyExpiry: "Bybit expires a key without an IP binding 90 days after it was created",
      // Executions and transfers name the sub-account (UID), never the key.
      activityAttribution: "account",
    };
  }

  /** Without an observer key in the admin secret the hourly pull reads transfers only. */
  async activityGaps(account: string): Promise<string[]> {
    return observerGaps(await this.opts.credentials(account), "executions");
  }

  /**
   * The sub-account's keys but the firm's observer key (`observer` in the admin secret): it is
   * not keyshift's to judge, rotate or count as an orphan, and it takes one of the slots.
   */
  async listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }> {
    const { cfg, ctx, signer } = await this.context(account, "listKeys");
    const listed = await listSubKeys(this.client, ctx, signer);
    const { keys, maxActiveKeys } = withoutObserver(listed, cfg.observer?.apiKey, cfg.maxKeys);
    return { keys: keys.map((key) => toExchangeKey(ctx, key)), maxActiveKeys };
  }

  /** Executions (observer key) and transfers out (master key) since the cursor (`activity.ts`). */
  async activitySince(account: string, cursor: string | undefined): Promise<ExchangeActivityPage> {
    const { cfg, ctx, signer } = await this.context(account, "activitySince");
    return bybitActivity({ client: this.client, now: this.now }, cfg, ctx, signer, cursor);
  }

  /**
   * 1. Translate the scope and IP list exactly (refuse what Bybit cannot express); 2. create with
   * the label as `note`; 3. check the granted scope in the answer; 4. find the key in the listing
   * (its creation time, expiry and IP binding are only there) and check it again.
   */
  async createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey> {
    const { cfg, ctx, signer } = await this.context(account, `createKey ${input.label}`);
    const cannot = (why: string) => new ExchangePermanentError(`${where(ctx)}: ${why}; nothing was created`);
    if (!LABEL.test(input.label)) throw cannot("the label must be 1 to 64 printable characters");
    const scope = toCreateScope(input.permissions);
    if ("problem" in scope) throw cannot(`the permissions cannot be expressed exactly: ${scope.problem}`);
    const ips = toIpsParameter(input.ipAllowlist);
    if (ips.problem) throw cannot(ips.problem);
    const answer = await this.client.call(ctx, signer, "POST", "/v5/user/create-sub-api", {
      subuid: Number(cfg.subuid),
      note: input.label,
      readOnly: scope.readOnly,
      permissions: scope.permissions,
      ...(ips.ips ? { ips: ips.ips } : {}),
    });
    if (!answer.ok) throw await this.explainCreateRefusal(cfg, ctx, signer, answer);
    const created = parseResult(ctx, createdSchema, answer);
    ctx.secrets.push(created.secret);

    const wanted = requestedPart(input.permissions);
    const orphan = `key ${created.apiKey} (label ${input.label}) was created; keyshift's abort removes it by its label`;
    const granted = requestedPart(normalizeScope(created.readOnly === 1, created.permissions));
    if (granted.join() !== wanted.join()) {
      const extra = granted.filter((p) => !wanted.includes(p));
      const broader = extra.length > 0 ? ` (broader than the replaced key: ${extra.join(", ")})` : "";
      throw new ExchangePermanentError(
        scrub(
          `${where(ctx)}: granted [${granted.join(", ")}] instead of [${wanted.join(", ")}]${broader}; ${orphan}`,
          ctx.secrets,
        ),
      );
    }
    const listed = await withinBudget(
      async () => {
        const found = (await listSubKeys(this.client, ctx, signer)).find((k) => k.apiKey === created.apiKey);
        if (!found) throw new ExchangeRetryableError(`${where(ctx)}: ${orphan} but is not listed yet`);
        return toExchangeKey(ctx, found);
      },
      { budgetMs: this.verifyBudgetMs, now: this.now },
    );
    const wantedIps = [...new Set(input.ipAllowlist ?? [])].sort().join();
    if (listed.label !== input.label) {
      // Found by id, not by label: an abort cannot find it, so the message must carry the id.
      throw new ExchangePermanentError(
        scrub(
          `${where(ctx)}: key ${created.apiKey} was created but is listed with note "${listed.label}", not its label ${input.label}; remove it by its id`,
          ctx.secrets,
        ),
      );
    }
    if (
      requestedPart(listed.permissions).join() !== wanted.join() ||
      (listed.ipAllowlist ?? []).join() !== wantedIps
    ) {
      throw new ExchangePermanentError(
        scrub(
          `${where(ctx)}: listed with [${listed.permissions.join(", ")}] bound to [${(listed.ipAllowlist ?? []).join(", ") || "any IP"}], not what was asked; ${orphan}`,
          ctx.secrets,
        ),
      );
    }
    return { ...listed, secret: created.secret };
  }

  /** `GET /v5/user/query-api` signed by the key itself: it authenticates, and it is a key of this sub-account. */
  async verifyKey(account: string, key: ExchangeKeyCredential): Promise<void> {
    const { cfg, ctx } = await this.context(account, `verifyKey ${key.keyId}`, [key.secret]);
    const signer: BybitSigner = {
      endpoint: cfg.endpoint,
      apiKey: key.keyId,
      secret: key.secret,
      recvWindowMs: cfg.recvWindowMs,
    };
    const attempt = async () => {
      try {
        return parseResult(
          ctx,
          keyInfoSchema,
          await this.client.call(ctx, signer, "GET", "/v5/user/query-api"),
        );
      } catch (err) {
        const code = (err as { exchangeCode?: string }).exchangeCode;
        if (code === "10003" && err instanceof Error) throw new KeyNotYetValidError(err);
        throw err;
      }
    };
    const info = await withinVerifyBudget(attempt, { budgetMs: this.verifyBudgetMs, now: this.now });
    if (info.apiKey !== key.keyId || String(info.userID) !== cfg.subuid || info.isMaster) {
      throw new ExchangePermanentError(
        scrub(
          `${where(ctx)}: key ${key.keyId} authenticates as key ${info.apiKey} of ${info.isMaster ? "master" : "sub"} account ${info.userID}, not of sub-account ${cfg.subuid}`,
          ctx.secrets,
        ),
      );
    }
  }

  async disableKey(account: string, keyId: string): Promise<void> {
    throw new ExchangePermanentError(
      `bybit disableKey ${keyId} on account ${account}: Bybit cannot disable a key (capabilities.disable is false); nothing was changed`,
    );
  }

  async enableKey(account: string, keyId: string): Promise<void> {
    throw new ExchangePermanentError(
      `bybit enableKey ${keyId} on account ${account}: Bybit cannot disable or enable a key; nothing was changed`,
    );
  }

  /**
   * Deletes with the master key (`apikey` names the sub-key). Only a key the confirmed listing of
   * this sub-account shows is deleted: the master may delete any of its sub-accounts' keys, and
   * Bybit documents no "no such key" code, so "not-found" means the exchange's own listing of this
   * sub-account does not show it — never a proxy's 404, an auth failure or another account.
   */
  async removeKey(account: string, keyId: string): Promise<"removed" | "not-found"> {
    const { cfg, ctx, signer } = await this.context(account, `removeKey ${keyId}`);
    if (!KEY_ID.test(keyId)) throw new ExchangePermanentError(`${where(ctx)}: not a Bybit API key id`);
    refuseObserverRemoval(keyId, cfg.observer?.apiKey, where(ctx));
    const listed = async () => (await listSubKeys(this.client, ctx, signer)).some((k) => k.apiKey === keyId);
    if (!(await listed())) return "not-found";
    const answer = await this.client.call(ctx, signer, "POST", "/v5/user/delete-sub-api", { apikey: keyId });
    if (answer.ok) {
      parseResult(ctx, deletedSchema, answer);
      return "removed";
    }
    // Refused: gone meanwhile (another deleter, a lost earlier answer), or a real refusal.
    if (!(await listed())) return "not-found";
    throw new ExchangePermanentError(`${answer.message}; key ${keyId} is still listed`, answer.status);
  }

  private async explainCreateRefusal(
    cfg: BybitConfig,
    ctx: CallContext,
    signer: BybitSigner,
    answer: Refusal,
  ): Promise<Error> {
    const code = { exchangeCode: safeExchangeCode(answer.retCode, ctx.secrets) };
    if (answer.retCode === RET_SUB_NOT_OWNED) {
      return Object.assign(
        new ExchangePermanentError(`${answer.message}; fix "subuid" or use that sub-account's master key`),
        code,
      );
    }
    // Bybit publishes no "too many keys" code: a refusal while the sub-account is full is the limit.
    const held = (await listSubKeys(this.client, ctx, signer)).length;
    if (held >= cfg.maxKeys) {
      return Object.assign(
        new ExchangeKeyLimitError(
          `${answer.message}; sub-account ${cfg.subuid} holds ${held} keys (limit ${cfg.maxKeys}, expired keys included): remove one first`,
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
      subuid: cfg.subuid,
      secrets: [cfg.apiSecret, ...(cfg.observer ? [cfg.observer.apiSecret] : []), ...extraSecrets],
    };
    const signer: BybitSigner = {
      endpoint: cfg.endpoint,
      apiKey: cfg.apiKey,
      secret: cfg.apiSecret,
      recvWindowMs: cfg.recvWindowMs,
    };
    return { cfg, ctx, signer };
  }
}
