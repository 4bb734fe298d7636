/**
 * Port to an exchange's key-management API. Implementations classify failures into
 * `ExchangeRetryableError` / `ExchangePermanentError` / `ExchangeKeyNotFoundError`
 * (from `core/errors`) and never put a key secret in an error message.
 */
export interface ExchangeKey {
  keyId: string;
  label: string;
  permissions: string[];
  status: "active" | "disabled";
  createdAt: string;
}

/** A key as returned at creation: the only time the exchange reveals its secret. */
export interface CreatedExchangeKey extends ExchangeKey {
  secret: string;
}

export interface ExchangeKeyCredential {
  keyId: string;
  secret: string;
}

export interface Exchange {
  /** Creates a key with the given label and permissions on the account. */
  createKey(account: string, input: { label: string; permissions: string[] }): Promise<CreatedExchangeKey>;
  /** Lists the account's keys (no secrets) and the account's active-key limit. */
  listKeys(account: string): Promise<{ keys: ExchangeKey[]; maxActiveKeys: number }>;
  /** Makes an authenticated call signed by the key itself; throws if it does not authenticate. */
  verifyKey(account: string, key: ExchangeKeyCredential): Promise<void>;
  /** Disables a key (it stops authenticating but still exists). */
  disableKey(account: string, keyId: string): Promise<void>;
  /** Removes a key. Resolves `"not-found"` when the exchange has no such key. */
  removeKey(account: string, keyId: string): Promise<"removed" | "not-found">;
}
