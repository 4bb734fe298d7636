import { ExchangePermanentError, RotationStateError } from "../../core/errors";
import type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeActivityPage,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
  SecretStore,
} from "../../core/ports";

/**
 * One exchange protocol keyshift can speak: how to read its admin secret, and how to build its
 * adapter around a source of those parsed credentials.
 */
export interface ExchangeProtocol<Config> {
  parseAdminSecret(json: unknown, secretId: string): Config;
  create(credentials: (account: string) => Promise<Config>, opts: RouterOptions): Exchange;
}

export interface RouterOptions {
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

/** The protocols a router speaks, by the `"exchange"` name an admin secret carries. */
export type ExchangeProtocols = ReadonlyMap<string, ExchangeProtocol<unknown>>;

/**
 * The `Exchange` port for every enrolled account, whatever its exchange: each account's admin
 * secret (`<prefix><account>`) names its protocol in `"exchange"` (required: there is no default)
 * and holds that protocol's credential. The secret is read on use and cached per warm container for a minute (never logged,
 * never in an error); a malformed one fails naming the field, never the value.
 */
export class ExchangeRouter implements Exchange {
  private readonly cache = new Map<string, { at: number; protocol: string; config: unknown }>();
  private readonly adapters = new Map<string, Exchange>();

  /**
   * `protocols` is every protocol this router may speak and nothing else (production passes the
   * real exchanges, `EXCHANGE_PROTOCOLS`); it is read on each load, not copied.
   */
  constructor(
    private readonly secrets: SecretStore,
    private readonly prefix: string,
    private readonly protocols: ExchangeProtocols,
    private readonly opts: RouterOptions & { ttlMs?: number } = {},
  ) {}

  capabilities(account: string): Promise<ExchangeCapabilities> {
    return this.route(account, (x) => x.capabilities(account));
  }
  createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey> {
    return this.route(account, (x) => x.createKey(account, input));
  }
  listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }> {
    return this.route(account, (x) => x.listKeys(account));
  }
  verifyKey(account: string, key: ExchangeKeyCredential): Promise<void> {
    return this.route(account, (x) => x.verifyKey(account, key));
  }
  disableKey(account: string, keyId: string): Promise<void> {
    return this.route(account, (x) => x.disableKey(account, keyId));
  }
  enableKey(account: string, keyId: string): Promise<void> {
    return this.route(account, (x) => x.enableKey(account, keyId));
  }
  removeKey(account: string, keyId: string): Promise<"removed" | "not-found"> {
    return this.route(account, (x) => x.removeKey(account, keyId));
  }

  async describeOwnKey(account: string, key: ExchangeKeyCredential): Promise<ExchangeKey | undefined> {
    return this.route(account, async (x) => (x.describeOwnKey ? x.describeOwnKey(account, key) : undefined));
  }
  async keyStillExists(account: string, key: ExchangeKeyCredential): Promise<boolean | undefined> {
    return this.route(account, async (x) => (x.keyStillExists ? x.keyStillExists(account, key) : undefined));
  }

  async activitySince(
    account: string,
    cursor: string | undefined,
  ): Promise<ExchangeActivityPage | undefined> {
    return this.route(account, async (x) => (x.activitySince ? x.activitySince(account, cursor) : undefined));
  }

  async activityGaps(account: string): Promise<string[] | undefined> {
    return this.route(account, async (x) => (x.activityGaps ? x.activityGaps(account) : undefined));
  }

  private async route<T>(account: string, call: (exchange: Exchange) => Promise<T>): Promise<T> {
    const { protocol } = await this.load(account);
    let adapter = this.adapters.get(protocol);
    if (!adapter) {
      const spec = this.protocols.get(protocol) as ExchangeProtocol<unknown>;
      adapter = spec.create(async (acct) => (await this.load(acct)).config, this.opts);
      this.adapters.set(protocol, adapter);
    }
    return call(adapter);
  }

  private async load(account: string): Promise<{ protocol: string; config: unknown }> {
    const hit = this.cache.get(account);
    if (hit && Date.now() - hit.at < (this.opts.ttlMs ?? 60_000)) return hit;
    const secretId = `${this.prefix}${account}`;
    const { value, versionId } = await this.secrets.getValue(secretId, { stage: "AWSCURRENT" });
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      throw new RotationStateError(
        `admin secret ${secretId} version ${versionId} is not JSON (value not shown)`,
      );
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new RotationStateError(`admin secret ${secretId} must hold a JSON object`);
    }
    const named = (json as { exchange?: unknown }).exchange;
    const spec = typeof named === "string" ? this.protocols.get(named) : undefined;
    if (typeof named !== "string" || !spec) {
      // Names the field and the choices, never what the field holds (a pasted key lands anywhere).
      const allowed = [...this.protocols.keys()].join(", ");
      throw new ExchangePermanentError(
        named === undefined
          ? `admin secret ${secretId}: field "exchange" is missing; it must be one of ${allowed}`
          : `admin secret ${secretId}: field "exchange" must be one of ${allowed}`,
      );
    }
    const config = spec.parseAdminSecret(json, secretId);
    const loaded = { at: Date.now(), protocol: named, config };
    this.cache.set(account, loaded);
    return loaded;
  }
}
