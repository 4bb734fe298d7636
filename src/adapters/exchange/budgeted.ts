import { ExchangeRetryableError } from "../../core/errors";
import type {
  BudgetRule,
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeActivityPage,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
  RequestBudget,
} from "../../core/ports";
import { type BudgetTiming, retryRateLimited, takeRequestSlot } from "../../core/request-budget";
import { type ExchangeErrorDetail, requestGate } from "./http";
import { DEFAULT_REQUEST_BUDGET, RATE_LIMIT_CODES, REQUEST_BUDGETS } from "./rate-limits";

export interface BudgetOptions {
  /** Budgets by exchange name (`REQUEST_BUDGETS` by default; the local stack adds its simulator's). */
  budgets?: Readonly<Record<string, BudgetRule>>;
  timing?: Partial<BudgetTiming>;
  /** Calls of a rate-limited method, the first included. */
  attempts?: number;
}

/**
 * The `Exchange` port with every account's request budget in front: each HTTP request an adapter
 * sends for an account first takes a slot of that account's budget (`fetchBounded` asks
 * `requestGate`), shared through DynamoDB by every keyshift caller; a method the exchange refused
 * as over its rate limit (HTTP 429 or its own code) is called again with backoff, each request
 * taking a slot again. `createKey` is never repeated here: a key may exist once its first request
 * went through, and a second one would be a third key (I3); its caller's retry reuses the pending one.
 */
export class BudgetedExchange implements Exchange {
  private readonly timing: BudgetTiming & { attempts: number; baseMs: number; capMs: number };

  constructor(
    private readonly inner: Exchange,
    private readonly budget: RequestBudget,
    private readonly opts: BudgetOptions = {},
  ) {
    this.timing = {
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      random: Math.random,
      // Well inside the exchange timeout a step allows itself (KEYSHIFT_EXCHANGE_TIMEOUT_MS).
      maxWaitMs: 10_000,
      ...opts.timing,
      attempts: opts.attempts ?? 4,
      baseMs: 500,
      capMs: 4000,
    };
  }

  capabilities(account: string): Promise<ExchangeCapabilities> {
    return this.inner.capabilities(account);
  }
  createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey> {
    return this.budgeted(account, false, () => this.inner.createKey(account, input));
  }
  listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }> {
    return this.budgeted(account, true, () => this.inner.listKeys(account));
  }
  verifyKey(account: string, key: ExchangeKeyCredential): Promise<void> {
    return this.budgeted(account, true, () => this.inner.verifyKey(account, key));
  }
  disableKey(account: string, keyId: string): Promise<void> {
    return this.budgeted(account, true, () => this.inner.disableKey(account, keyId));
  }
  enableKey(account: string, keyId: string): Promise<void> {
    return this.budgeted(account, true, () => this.inner.enableKey(account, keyId));
  }
  removeKey(account: string, keyId: string): Promise<"removed" | "not-found"> {
    return this.budgeted(account, true, () => this.inner.removeKey(account, keyId));
  }
  /**
   * Manual accounts' self-descriptions and deletion checks, forwarded (never dropped: without them
   * keys provide and confirm-deleted could only record a person's word) and NOT budgeted: Kraken
   * keeps one nonce per key, shared with the key's consumers, and a wait for a slot between signing
   * and sending lets a consumer's later nonce arrive first (`EAPI:Invalid nonce`). One call per
   * rotation each; `keyStillExists` is asked once (repeated invalid-key answers lock an account out).
   */
  describeOwnKey(account: string, key: ExchangeKeyCredential): Promise<ExchangeKey | undefined> {
    return this.inner.describeOwnKey ? this.inner.describeOwnKey(account, key) : Promise.resolve(undefined);
  }
  keyStillExists(account: string, key: ExchangeKeyCredential): Promise<boolean | undefined> {
    return this.inner.keyStillExists ? this.inner.keyStillExists(account, key) : Promise.resolve(undefined);
  }

  /**
   * The exchange's activity log, each of its requests taking a slot like any other (an hourly
   * pull of a few pages shares the account's budget with rotations). Only read, so repeatable:
   * nothing is stored until the pull returns.
   */
  activitySince(account: string, cursor: string | undefined): Promise<ExchangeActivityPage | undefined> {
    const inner = this.inner;
    if (!inner.activitySince) return Promise.resolve(undefined);
    return this.budgeted(account, true, async () => inner.activitySince?.(account, cursor));
  }

  /** Read from the account's settings, no exchange request: no slot taken. */
  activityGaps(account: string): Promise<string[] | undefined> {
    return this.inner.activityGaps ? this.inner.activityGaps(account) : Promise.resolve(undefined);
  }

  private async budgeted<T>(account: string, repeatable: boolean, call: () => Promise<T>): Promise<T> {
    const { exchange } = await this.inner.capabilities(account);
    const rule = (this.opts.budgets ?? REQUEST_BUDGETS)[exchange] ?? DEFAULT_REQUEST_BUDGET;
    const bucket = `${exchange}#${account}`;
    const gate = () => takeRequestSlot(this.budget, bucket, rule, this.timing);
    const run = () => requestGate.run(gate, call);
    return repeatable ? retryRateLimited(run, (err) => rateLimitWait(err, exchange), this.timing) : run();
  }
}

/** The wait (ms) a rate-limited refusal asks for, 0 for none; undefined when it is not one. */
export function rateLimitWait(err: unknown, exchange: string): number | undefined {
  if (!(err instanceof ExchangeRetryableError)) return undefined;
  const { exchangeCode, retryAfterSeconds } = err as ExchangeRetryableError & ExchangeErrorDetail;
  const codes = RATE_LIMIT_CODES[exchange] ?? [];
  const limited = err.status === 429 || (exchangeCode !== undefined && codes.includes(exchangeCode));
  if (!limited) return undefined;
  return retryAfterSeconds !== undefined && retryAfterSeconds > 0 ? retryAfterSeconds * 1000 : 0;
}
