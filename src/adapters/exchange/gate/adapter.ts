import { ExchangePermanentError } from "../../../core/errors";
import type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "../../../core/ports/exchange";
import { KeyNotYetValidError, scrub, withinVerifyBudget } from "../http";
import type { GateConfig } from "./admin-secret";
import { type CallContext, GateClient, type GateSigner, parseAnswer, refused, where } from "./client";
import { confirmCreated, explainCreateRefusal } from "./create-key";
import { listSubKeys, toExchangeKey } from "./listing";
import { toCreatePerms, toIpWhitelist } from "./scope";
import { accountDetailSchema, createdKeySchema, INVALID_KEY } from "./wire";

export type GateCredentialSource = (account: string) => Promise<GateConfig>;

export interface GateExchangeOptions {
  credentials: GateCredentialSource;
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
  /** Milliseconds since epoch, for `Timestamp` and budgets; default `Date.now`. */
  now?: () => number;
  /** How long `verifyKey` (and the listing of a just-created key) may keep retrying; default 8 s. */
  verifyBudgetMs?: number;
}

/** Gate's key ids are 32 hex characters; anything printable without `/` is accepted, nothing else is sent in a path. */
const KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Gate publishes no rule for `name`; keyshift's labels are `ks_` + 12 hex. */
const LABEL = /^[\x20-\x7e]{1,50}$/;

/**
 * The `Exchange` port on Gate APIv4, for one sub-account per keyshift account, managed with its
 * main account's key (`docs/exchanges.md, Gate`). No per-key disable: revocation deletes. The
 * listing carries each key's `last_access`, reported as `lastUsedAt`.
 */
export class GateExchange implements Exchange {
  private readonly client: GateClient;
  private readonly now: () => number;
  private readonly verifyBudgetMs: number;

  constructor(private readonly opts: GateExchangeOptions) {
    this.now = opts.now ?? Date.now;
    this.verifyBudgetMs = opts.verifyBudgetMs ?? 8_000;
    this.client = new GateClient({
      timeoutMs: opts.timeoutMs ?? 5_000,
      now: this.now,
      fetchImpl: opts.fetchImpl,
    });
  }

  async capabilities(_account: string): Promise<ExchangeCapabilities> {
    return {
      exchange: "gate",
      disable: false,
      // A frozen or locked key is still a key of the sub-account: count it.
      limitCounts: "all",
      // docs/exchanges.md, Gate: "If you opt for not binding, the API Key ... is valid for 90 days."
      unboundKeyExpiry: "Gate keys without an IP binding are valid for 90 days",
    };
  }

  async listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }> {
    const { cfg, ctx, signer } = await this.context(account, "listKeys");
    const listed = await listSubKeys(this.client, ctx, signer);
    return { keys: listed.map((key) => toExchangeKey(ctx, key)), maxActiveKeys: cfg.maxKeys };
  }

  /**
   * 1. Translate scope and IP list exactly (refuse what Gate cannot express); 2. create with the
   * label as `name`; 3. check the granted scope in the answer; 4. find the key in the listing and
   * check name, scope and IP binding again.
   */
  async createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey> {
    const { cfg, ctx, signer } = await this.context(account, `createKey ${input.label}`);
    const cannot = (why: string) => new ExchangePermanentError(`${where(ctx)}: ${why}; nothing was created`);
    if (!LABEL.test(input.label)) throw cannot("the label must be 1 to 50 printable characters");
    const scope = toCreatePerms(input.permissions);
    if ("problem" in scope) throw cannot(`the permissions cannot be expressed exactly: ${scope.problem}`);
    const ips = toIpWhitelist(input.ipAllowlist);
    if ("problem" in ips) throw cannot(ips.problem);
    const answer = await this.client.call(ctx, signer, "POST", `/sub_accounts/${cfg.userId}/keys`, {
      ...(cfg.mode !== undefined ? { mode: cfg.mode } : {}),
      name: input.label,
      perms: scope.perms,
      ip_whitelist: ips.ips,
    });
    if (!answer.ok) throw await explainCreateRefusal(this.client, cfg, ctx, signer, answer);
    const created = parseAnswer(ctx, createdKeySchema, answer);
    ctx.secrets.push(created.secret);
    const listed = await confirmCreated(this.client, ctx, signer, input, created, {
      budgetMs: this.verifyBudgetMs,
      now: this.now,
    });
    return { ...listed, secret: created.secret };
  }

  /**
   * `GET /account/detail` signed by the key itself: it authenticates, and its `user_id` is the
   * configured sub-account's (a key of the main account or of another sub-account is refused).
   * "Invalid key" is retried within the budget: a key made a moment ago may not have propagated.
   */
  async verifyKey(account: string, key: ExchangeKeyCredential): Promise<void> {
    const { cfg, ctx } = await this.context(account, `verifyKey ${key.keyId}`, [key.secret]);
    const signer: GateSigner = { endpoint: cfg.endpoint, apiKey: key.keyId, apiSecret: key.secret };
    const attempt = async () => {
      try {
        return parseAnswer(
          ctx,
          accountDetailSchema,
          await this.client.call(ctx, signer, "GET", "/account/detail"),
        );
      } catch (err) {
        const code = (err as { exchangeCode?: string }).exchangeCode;
        if (code === INVALID_KEY && err instanceof Error) throw new KeyNotYetValidError(err);
        throw err;
      }
    };
    const detail = await withinVerifyBudget(attempt, { budgetMs: this.verifyBudgetMs, now: this.now });
    if (String(detail.user_id) !== cfg.userId) {
      throw new ExchangePermanentError(
        scrub(
          `${where(ctx)}: key ${key.keyId} authenticates as user ${String(detail.user_id)}, not sub-account ${cfg.userId}`,
          ctx.secrets,
        ),
      );
    }
  }

  async disableKey(account: string, keyId: string): Promise<void> {
    throw new ExchangePermanentError(
      `gate disableKey ${keyId} on account ${account}: Gate cannot disable one key (capabilities.disable is false); nothing was changed`,
    );
  }

  async enableKey(account: string, keyId: string): Promise<void> {
    throw new ExchangePermanentError(
      `gate enableKey ${keyId} on account ${account}: Gate cannot disable or enable one key; nothing was changed`,
    );
  }

  /**
   * Deletes with the main account's key. Only a key the listing of this sub-account shows is
   * deleted, and "not-found" rests on that listing (before, or after a refused delete) — never on
   * a proxy's 404, an auth failure or another account, which all throw first.
   */
  async removeKey(account: string, keyId: string): Promise<"removed" | "not-found"> {
    const { ctx, signer } = await this.context(account, `removeKey ${keyId}`);
    if (!KEY_ID.test(keyId)) throw new ExchangePermanentError(`${where(ctx)}: not a Gate API key id`);
    const listed = async () => (await listSubKeys(this.client, ctx, signer)).some((key) => key.key === keyId);
    if (!(await listed())) return "not-found";
    const answer = await this.client.call(ctx, signer, "DELETE", `/sub_accounts/${ctx.userId}/keys/${keyId}`);
    if (answer.ok) {
      // "204 Deleted successfully": an answer with a body is someone else's.
      if (answer.empty) return "removed";
      throw new ExchangePermanentError(
        `${where(ctx)}: HTTP ${answer.status} with a body; not counted as a removal`,
      );
    }
    // Refused: gone meanwhile (another deleter, a lost earlier answer), or a real refusal.
    if (!(await listed())) return "not-found";
    throw refused(answer, `key ${keyId} is still listed`);
  }

  private async context(account: string, operation: string, extraSecrets: string[] = []) {
    const cfg = await this.opts.credentials(account);
    const ctx: CallContext = {
      operation,
      account,
      userId: cfg.userId,
      secrets: [cfg.apiSecret, ...extraSecrets],
    };
    const signer: GateSigner = { endpoint: cfg.endpoint, apiKey: cfg.apiKey, apiSecret: cfg.apiSecret };
    return { cfg, ctx, signer };
  }
}
