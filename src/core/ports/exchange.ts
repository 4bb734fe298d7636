import type { EndpointClass } from "../misuse/model";

/**
 * Port to an exchange's key-management API. Implementations classify failures into
 * `ExchangeRetryableError` / `ExchangePermanentError` / `ExchangeKeyNotFoundError` /
 * `ExchangeKeyLimitError` (from `core/errors`) and never put a key secret in an error message.
 *
 * Adapters: `src/adapters/exchange/{deribit,bybit,okx,binance,gate,kraken}/` (real wire protocols), chosen per account by
 * `src/adapters/exchange/router.ts`; keyshift's own test protocol lives in the harness
 * (`harness/local/exchange/keyshift-sim/`).
 */
export interface ExchangeKey {
  keyId: string;
  /** The key's name on the exchange (Deribit `name`, Bybit `note`, OKX `label`): keyshift writes its rotation label here. */
  label: string;
  /**
   * Normalized scope: Deribit `max_scope` tokens, Bybit `<group>:<permission>` pairs (plus
   * `readOnly`), OKX `perm` tokens, Binance flags. A `<group>:none` token grants nothing: an
   * exchange may list it or leave it out, and no comparison of scopes counts it.
   */
  permissions: string[];
  /** IPs / CIDRs the key is bound to; absent or empty means unrestricted. */
  ipAllowlist?: string[];
  status: "active" | "disabled";
  createdAt: string;
  /** When the exchange itself will expire the key (Bybit keys without an IP binding). */
  expiresAt?: string;
  /**
   * When the exchange last saw the key authenticate, where it reports that per key (Gate's
   * `last_access`); absent where it does not. The misuse detector's per-key evidence that a retired
   * key is still in use.
   */
  lastUsedAt?: string;
}

/** A key as returned at creation: the only time the exchange reveals its secret. */
export interface CreatedExchangeKey extends ExchangeKey {
  secret: string;
  /** The passphrase the adapter chose for the key, where the exchange requires one (OKX). */
  passphrase?: string;
}

export interface ExchangeKeyCredential {
  keyId: string;
  secret: string;
  /** The key's own passphrase, where the exchange gives each key one (OKX); never logged. */
  passphrase?: string;
}

/** What an account's exchange can do; decides two-stage revocation and how the key limit counts. */
export interface ExchangeCapabilities {
  /** Exchange name (`deribit`, `bybit`, `okx`, `keyshift-sim`), for messages and summaries. */
  exchange: string;
  /** Keys can be disabled (they stop authenticating at once) and enabled again: revocation is two-stage. */
  disable: boolean;
  /** Which keys count against `maxActiveKeys`: only active ones, or disabled ones too (Deribit). */
  limitCounts: "active" | "all";
  /**
   * What the exchange does to a key without an IP binding, when it does something (Bybit expires
   * it after 90 days, OKX deletes it after 14 days unused): the hygiene audit reports unbound keys
   * on such exchanges. Absent: unbound keys live on (and work from any address).
   */
  unboundKeyExpiry?: string;
  /**
   * `manual`: only a person can make or delete this account's keys (in the exchange's web UI; e.g.
   * Kraken). keyshift never calls `createKey`/`disableKey`/`removeKey` for it: the workflow waits on
   * a task a person answers (`core/manual`). Absent: `api`.
   */
  keyManagement?: "api" | "manual";
  /**
   * What the exchange's reports of use name (issue 20): `account` when they name the (sub)account
   * but never the key (Deribit's access and transaction logs), so activity is one secret's only if
   * no other enrolled secret uses the account. Absent: the exchange reports no use to keyshift.
   */
  activityAttribution?: "key" | "account";
}

export interface CreateKeyInput {
  label: string;
  permissions: string[];
  /** Copied from the key being replaced; never broader. */
  ipAllowlist?: string[];
}

/**
 * One thing the exchange saw an account do (issue 20, "exchanges report what they saw"): a login,
 * a fill, a withdrawal — as the exchange reports it, classified.
 */
export interface ExchangeActivityRow {
  atMs: number;
  endpointClass: EndpointClass;
  count: number;
  /** The caller's address, where the exchange reports it. */
  ip?: string;
  /** Where the exchange places that address (its own estimate, as it names it). */
  country?: string;
  /** The key, where the exchange names it; absent: one of the account's keys (Deribit names none). */
  keyId?: string;
}

/** What one pull read, and where the next one starts. */
export interface ExchangeActivityPage {
  rows: ExchangeActivityRow[];
  /** Opaque to the core: handed back on the next pull, stored only once the rows are. */
  cursor: string;
  /**
   * Parts of the log the pull could not read within its bounds and will not read later (the
   * access log, past its page bound): said, not hidden. Absent: nothing skipped.
   */
  skipped?: string[];
}

export interface Exchange {
  capabilities(account: string): Promise<ExchangeCapabilities>;
  /** Creates a key with the given label, permissions and IP allow-list on the account. */
  createKey(account: string, input: CreateKeyInput): Promise<CreatedExchangeKey>;
  /** Lists the account's keys (no secrets) and the account's key limit (see `limitCounts`). */
  listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }>;
  /** Makes a read-only authenticated call signed by the key itself; throws if it does not authenticate. */
  verifyKey(account: string, key: ExchangeKeyCredential): Promise<void>;
  /** Disables a key (it stops authenticating but still exists). */
  disableKey(account: string, keyId: string): Promise<void>;
  /** Enables a disabled key again (the undo of `disableKey`; `ExchangePermanentError` where unsupported). */
  enableKey(account: string, keyId: string): Promise<void>;
  /** Removes a key. Resolves `"not-found"` when the exchange has no such key. */
  removeKey(account: string, keyId: string): Promise<"removed" | "not-found">;
  /**
   * Manual accounts: the key describes itself, signed by itself (permissions, IP allow-list), where
   * the exchange lets it (Kraken `GetApiKeyInfo`). Absent, or resolving undefined: it cannot say.
   */
  describeOwnKey?(account: string, key: ExchangeKeyCredential): Promise<ExchangeKey | undefined>;
  /**
   * Manual accounts: whether the exchange still knows the key, asked once with the key itself
   * (false only on the exchange's "invalid key"). Absent, or resolving undefined: keyshift cannot
   * tell, and a person's word stands (audited as such).
   */
  keyStillExists?(account: string, key: ExchangeKeyCredential): Promise<boolean | undefined>;
  /**
   * What the exchange saw the account do since `cursor` (undefined: a first pull, which reads a
   * bounded recent window), read with the admin key within the exchange's rate limits; only what
   * is new. Absent, or resolving undefined: the exchange reports no such thing to keyshift.
   */
  activitySince?(account: string, cursor: string | undefined): Promise<ExchangeActivityPage | undefined>;
  /**
   * What `activitySince` cannot read on this account as it is set up, and why, from the account's
   * own settings (no exchange request): e.g. Bybit/OKX executions without an observer key. Empty:
   * nothing missing. Absent, or resolving undefined: the adapter knows of no such gap.
   */
  activityGaps?(account: string): Promise<string[] | undefined>;
}
