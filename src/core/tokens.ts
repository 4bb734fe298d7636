import { createHash } from "node:crypto";

/**
 * `ClientRequestToken` for the rotation's AWSPENDING version. Derived from the rotation id so a
 * retried CreateNext writes the same version (AWS treats same token + same value as a no-op).
 * 40 hex chars: inside Secrets Manager's 32–64 limit.
 */
export function versionTokenFor(rotationId: string): string {
  return createHash("sha256").update(`keyshift:version:${rotationId}`).digest("hex").slice(0, 40);
}

/**
 * Label given to the exchange key a rotation creates, so a crashed attempt's key can be found.
 * 15 chars of `[A-Za-z0-9_]`: inside Deribit's `name` rule (≤ 16, that charset) and Bybit's `note`.
 */
export function exchangeLabelFor(rotationId: string): string {
  return `ks_${createHash("sha256").update(`keyshift:label:${rotationId}`).digest("hex").slice(0, 12)}`;
}

export function ledgerEntryId(exchangeAccount: string, keyId: string): string {
  return `${exchangeAccount}#${keyId}`;
}
