import { ExchangePermanentError } from "../../../core/errors";
import type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeActivityPage,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "../../../core/ports/exchange";
import { KeyNotYetValidError, scrub, withinVerifyBudget } from "../http";
import { observerGaps, refuseObserverRemoval, withoutObserver } from "../observer-key";
import { okxActivity } from "./activity";
import type { OkxConfig } from "./admin-secret";
import { type CallContext, OkxClient, type OkxSigner, parseOne, where } from "./client";
import { confirmCreated, explainCreateRefusal } from "./create-key";
import { listSubKeys, toExchangeKey } from "./listing";
import { generatePassphrase, toCreatePerm, toIpParameter } from "./scope";
import { accountConfigSchema, createdSchema, deletedSchema, INVALID_KEY, KEY_NOT_FOUND_CODES } from "./wire";

export type OkxCredentialSource = (account: string) => Promise<OkxConfig>;

export interface OkxExchangeOptions {
  credentials: OkxCredentialSource;
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
  /** Milliseconds since epoch, for `OK-ACCESS-TIMESTAMP` and budgets; default `Date.now`. */
  now?: () => number;
  /** How long `verifyKey` (and the listing of a just-created key) may keep retrying; default 8 s. */
  verifyBudgetMs?: number;
  /** The passphrase a new key gets; default a fresh CSPRNG one per key (tests pin it). */
  newPassphrase?: () => string;
}

const KEY_ID = /^[\x21-\x7e]{1,128}$/;
/** OKX publishes no label rule but "API Key note"; keyshift's labels are `ks_` + 12 hex. */
const LABEL = /^[\x20-\x7e]{1,50}$/;

/**
 * The `Exchange` port on OKX v5, for one sub-account per keyshift account, managed with its
 * master's IP-bound key (`docs/exchanges.md, OKX`). No disable: revocation deletes. Every key OKX
 * makes has its own passphrase: the adapter chooses it, returns it with the key, and signs
 * `verifyKey` with it.
 */
export class OkxExchange implements Exchange {
  private readonly client: OkxClient;
  private readonly now: () => number;
  private readonly verifyBudgetMs: number;

  constructor(private readonly opts: OkxExchangeOptions) {
    this.now = opts.now ?? Date.now;
    this.verifyBudgetMs = opts.verifyBudgetMs ?? 8_000;
    this.client = new OkxClient({
      timeoutMs: opts.timeoutMs ?? 5_000,
      now: this.now,
      fetchImpl: opts.fetchImpl,
    });
  }

  async capabilities(_account: string): Promise<ExchangeCapabilities> {
    return {
      exchange: "okx",
      disable: false,
      limitCounts: "active",
      // docs/exchanges.md, OKX: unbound keys are deleted after 14 days without use.
      unboundKeyExpiry: "OKX deletes a key without an IP binding after 14 days unused",
      // Fills and transfer bills name the sub-account, never the key.
      activityAttribution: "account",
    };
  }

  /** Without an observer key in the admin secret the hourly pull reads transfers only. */
  async activityGaps(account: string): Promise<string[]> {
    return observerGaps(await this.opts.credentials(account), "fills");
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

  /** Fills (observer key) and transfers to the master (master key) since the cursor (`activity.ts`). */
  async activitySince(account: string, cursor: string | undefined): Promise<ExchangeActivityPage> {
    const { cfg, ctx, signer } = await this.context(account, "activitySince");
    return okxActivity({ client: this.client, now: this.now }, cfg, ctx, signer, cursor);
  }

  /**
   * 1. Translate the scope and IP list exactly (refuse what OKX cannot express) and choose the
   * key's passphrase; 2. create with the label; 3. check the granted scope in the answer; 4. find
   * the key in the listing and check label, scope and IP binding again.
   */
  async createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey> {
    const { cfg, ctx, signer } = await this.context(account, `createKey ${input.label}`);
    const cannot = (why: string) => new ExchangePermanentError(`${where(ctx)}: ${why}; nothing was created`);
    if (!LABEL.test(input.label)) throw cannot("the label must be 1 to 50 printable characters");
    const scope = toCreatePerm(input.permissions);
    if ("problem" in scope) throw cannot(`the permissions cannot be expressed exactly: ${scope.problem}`);
    const ips = toIpParameter(input.ipAllowlist);
    if (ips.problem) throw cannot(ips.problem);
    const passphrase = (this.opts.newPassphrase ?? generatePassphrase)();
    ctx.secrets.push(passphrase);
    const answer = await this.client.call(ctx, signer, "POST", "/api/v5/users/subaccount/apikey", {
      subAcct: cfg.subAcct,
      label: input.label,
      passphrase,
      perm: scope.perm,
      ip: ips.ip,
    });
    if (!answer.ok) throw await explainCreateRefusal(this.client, cfg, ctx, signer, answer);
    const created = parseOne(ctx, createdSchema, answer);
    ctx.secrets.push(created.secretKey);
    const listed = await confirmCreated(this.client, ctx, signer, input, created, {
      budgetMs: this.verifyBudgetMs,
      now: this.now,
    });
    return { ...listed, secret: created.secretKey, passphrase };
  }

  /**
   * `GET /api/v5/account/config` signed by the key itself with its own passphrase: it
   * authenticates, and it is a sub-account's key (`uid` ≠ `mainUid`); then the master's listing of
   * the configured sub-account must hold it.
   */
  async verifyKey(account: string, key: ExchangeKeyCredential): Promise<void> {
    const extra = [key.secret, ...(key.passphrase ? [key.passphrase] : [])];
    const { cfg, ctx, signer: master } = await this.context(account, `verifyKey ${key.keyId}`, extra);
    if (!key.passphrase) {
      throw new ExchangePermanentError(
        `${where(ctx)}: key ${key.keyId} has no passphrase; every OKX key needs its own (the secret's "passphrase" field)`,
      );
    }
    const signer: OkxSigner = {
      endpoint: cfg.endpoint,
      demo: cfg.demo,
      apiKey: key.keyId,
      secretKey: key.secret,
      passphrase: key.passphrase,
    };
    const attempt = async () => {
      try {
        return parseOne(
          ctx,
          accountConfigSchema,
          await this.client.call(ctx, signer, "GET", "/api/v5/account/config"),
        );
      } catch (err) {
        const code = (err as { exchangeCode?: string }).exchangeCode;
        if (code === INVALID_KEY && err instanceof Error) throw new KeyNotYetValidError(err);
        throw err;
      }
    };
    const config = await withinVerifyBudget(attempt, { budgetMs: this.verifyBudgetMs, now: this.now });
    if (config.uid === config.mainUid) {
      throw new ExchangePermanentError(
        scrub(
          `${where(ctx)}: key ${key.keyId} authenticates as a master account's key (uid ${config.uid})`,
          ctx.secrets,
        ),
      );
    }
    const [listed] = await listSubKeys(this.client, ctx, master, key.keyId);
    if (!listed) {
      throw new ExchangePermanentError(
        scrub(
          `${where(ctx)}: key ${key.keyId} authenticates (uid ${config.uid}) but is not a key of sub-account ${cfg.subAcct}`,
          ctx.secrets,
        ),
      );
    }
  }

  async disableKey(account: string, keyId: string): Promise<void> {
    throw new ExchangePermanentError(
      `okx disableKey ${keyId} on account ${account}: OKX cannot disable a key (capabilities.disable is false); nothing was changed`,
    );
  }

  async enableKey(account: string, keyId: string): Promise<void> {
    throw new ExchangePermanentError(
      `okx enableKey ${keyId} on account ${account}: OKX cannot disable or enable a key; nothing was changed`,
    );
  }

  /**
   * Deletes with the master key. Only a key the listing of this sub-account shows is deleted, and
   * "not-found" rests on that listing (OKX's own 59506 "APIKey does not exist" is confirmed by it
   * too) — never on a proxy's 404, an auth failure or another account, which all throw first.
   */
  async removeKey(account: string, keyId: string): Promise<"removed" | "not-found"> {
    const { cfg, ctx, signer } = await this.context(account, `removeKey ${keyId}`);
    if (!KEY_ID.test(keyId)) throw new ExchangePermanentError(`${where(ctx)}: not an OKX API key id`);
    refuseObserverRemoval(keyId, cfg.observer?.apiKey, where(ctx));
    const listed = async () => (await listSubKeys(this.client, ctx, signer, keyId)).length > 0;
    if (!(await listed())) return "not-found";
    const answer = await this.client.call(ctx, signer, "POST", "/api/v5/users/subaccount/delete-apikey", {
      subAcct: ctx.subAcct,
      apiKey: keyId,
    });
    if (answer.ok) {
      parseOne(ctx, deletedSchema, answer);
      return "removed";
    }
    // Refused: gone meanwhile (another deleter, a lost earlier answer), or a real refusal.
    if (!(await listed())) return "not-found";
    const notFound = KEY_NOT_FOUND_CODES.includes(answer.code) ? " although OKX says it does not exist" : "";
    throw new ExchangePermanentError(
      `${answer.message}; key ${keyId} is still listed${notFound}`,
      answer.status,
    );
  }

  private async context(account: string, operation: string, extraSecrets: string[] = []) {
    const cfg = await this.opts.credentials(account);
    const ctx: CallContext = {
      operation,
      account,
      subAcct: cfg.subAcct,
      secrets: [
        cfg.secretKey,
        cfg.passphrase,
        ...(cfg.observer ? [cfg.observer.secretKey, cfg.observer.passphrase] : []),
        ...extraSecrets,
      ],
    };
    const signer: OkxSigner = {
      endpoint: cfg.endpoint,
      demo: cfg.demo,
      apiKey: cfg.apiKey,
      secretKey: cfg.secretKey,
      passphrase: cfg.passphrase,
    };
    return { cfg, ctx, signer };
  }
}
