import { createHash } from "node:crypto";

/**
 * The fingerprint of a secret value: `fp1_` + the first 16 hex digits of SHA-256 over the secret
 * string's UTF-8 bytes. What a consumer reports in heartbeats, so keyshift never needs the value.
 * The same derivation as keyshift's own (src/core/fingerprint.ts): this package ships alone, so it
 * carries its copy, and test/unit/consumer-sdk-parity.test.ts keeps the two equal.
 */
export function fingerprint(secretString: string): string {
  const digest = createHash("sha256").update(secretString, "utf8").digest("hex");
  return `fp1_${digest.slice(0, 16)}`;
}
