import { ExchangePermanentError } from "../../../core/errors";
import type {
  CreatedExchangeKey,
  Exchange,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "../../../core/ports";
import type { KrakenAccountConfig } from "./account-config";
import { processNonce } from "./nonce";
import { describeKey, type KrakenCallOptions, keyStillAuthenticates, verifyKey } from "./verify";

export interface KrakenExchangeOptions {
  credentials: (account: string) => Promise<KrakenAccountConfig>;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

/**
 * Kraken keeps one nonce per API key. A key keyshift describes may be the current one, which its
 * consumers sign with at the same time: a call in the same millisecond as a consumer's is refused
 * `EAPI:Invalid nonce` (not above the key's highest). That is no answer about the key: try again a
 * few milliseconds later, at most 3 times.
 */
async function withNonceRetries<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (err) {
      if ((err as { exchangeCode?: string }).exchangeCode !== "EAPI:Invalid nonce" || attempt >= 3) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.floor(Math.random() * 20)));
    }
  }
}

const CAPABILITIES: ExchangeCapabilities = Object.freeze({
  exchange: "kraken",
  // Kraken's spot API has no call that makes, lists, disables or deletes keys: a person does.
  disable: false,
  limitCounts: "active",
  keyManagement: "manual",
});

/**
 * A Kraken account behind the `Exchange` port. Manual key management: keyshift verifies a key a
 * person made (`Balance`), lets it describe itself (`GetApiKeyInfo`) and asks whether a key a person
 * deleted is gone — each call signed by that key. Making, listing, disabling and deleting keys are
 * not in Kraken's API: they throw `ExchangePermanentError`, and the core never asks for them on a
 * manual account (`docs/exchanges.md`, Kraken).
 */
export class KrakenExchange implements Exchange {
  constructor(private readonly opts: KrakenExchangeOptions) {}

  async capabilities(): Promise<ExchangeCapabilities> {
    return { ...CAPABILITIES };
  }
  async createKey(account: string): Promise<CreatedExchangeKey> {
    throw this.manual(account, "make a key");
  }
  async listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }> {
    throw this.manual(account, "list keys");
  }
  async disableKey(account: string): Promise<void> {
    throw this.manual(account, "disable a key");
  }
  async enableKey(account: string): Promise<void> {
    throw this.manual(account, "enable a key");
  }
  async removeKey(account: string): Promise<"removed" | "not-found"> {
    throw this.manual(account, "delete a key");
  }

  async verifyKey(account: string, key: ExchangeKeyCredential): Promise<void> {
    await verifyKey(key, await this.callOptions(account));
  }

  async describeOwnKey(account: string, key: ExchangeKeyCredential): Promise<ExchangeKey> {
    const d = await withNonceRetries(async () => describeKey(key, await this.callOptions(account)));
    return {
      keyId: d.keyId,
      label: d.name,
      permissions: d.permissions,
      ipAllowlist: d.ipAllowlist,
      status: "active",
      // Kraken does not say when a key was made; keyshift records when it received it.
      createdAt: new Date(0).toISOString(),
      ...(d.validUntil ? { expiresAt: new Date(d.validUntil * 1000).toISOString() } : {}),
    };
  }

  async keyStillExists(account: string, key: ExchangeKeyCredential): Promise<boolean> {
    return keyStillAuthenticates(key, await this.callOptions(account));
  }

  private async callOptions(account: string): Promise<KrakenCallOptions> {
    const config = await this.opts.credentials(account);
    return {
      endpoint: config.endpoint,
      account,
      nonce: processNonce,
      ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
      ...(this.opts.fetchImpl ? { fetchImpl: this.opts.fetchImpl } : {}),
    };
  }

  private manual(account: string, what: string): ExchangePermanentError {
    return new ExchangePermanentError(
      `${account} is a Kraken account: Kraken's API cannot ${what}; a person does it in Settings → API (keyshift opens a task: \`keyshift tasks list\`)`,
    );
  }
}
