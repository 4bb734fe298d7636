import { createHash } from "node:crypto";

/** Fingerprint scheme version prefix; bump when the derivation changes. */
export const FINGERPRINT_PREFIX = "fp1_";

/**
 * The fingerprint of a secret value: `fp1_` + the first 16 hex digits of SHA-256 over the
 * secret string's UTF-8 bytes. Consumers compute it with this same helper and report it in
 * heartbeats, so the control plane never needs the value itself.
 */
export function fingerprint(secretString: string): string {
  const digest = createHash("sha256").update(secretString, "utf8").digest("hex");
  return `${FINGERPRINT_PREFIX}${digest.slice(0, 16)}`;
}

export const FINGERPRINT_PATTERN = /^fp1_[0-9a-f]{16}$/;
