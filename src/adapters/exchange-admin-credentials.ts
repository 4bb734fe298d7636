import { RotationStateError } from "../core/errors";
import type { SecretStore } from "../core/ports";
import type { AdminCredentialSource, ExchangeAdminCredential } from "./exchange/http-exchange";

/**
 * The exchange admin credential for an account, read from its own Secrets Manager secret
 * (`<prefix><account>`, JSON `{endpoint, keyId, secret}`) — never from environment or code.
 * Cached per warm container for a short while so a step does not re-read it per call.
 */
export function adminCredentialsFromSecrets(
  secrets: SecretStore,
  prefix: string,
  ttlMs = 60_000,
): AdminCredentialSource {
  const cache = new Map<string, { at: number; value: ExchangeAdminCredential }>();
  return async (account) => {
    const hit = cache.get(account);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value;
    const secretId = `${prefix}${account}`;
    const { value, versionId } = await secrets.getValue(secretId, { stage: "AWSCURRENT" });
    let parsed: Partial<ExchangeAdminCredential>;
    try {
      parsed = JSON.parse(value) as Partial<ExchangeAdminCredential>;
    } catch {
      throw new RotationStateError(
        `admin secret ${secretId} version ${versionId} is not JSON (value not shown)`,
      );
    }
    if (
      typeof parsed.endpoint !== "string" ||
      typeof parsed.keyId !== "string" ||
      typeof parsed.secret !== "string"
    ) {
      throw new RotationStateError(`admin secret ${secretId} must hold {endpoint, keyId, secret}`);
    }
    const credential = { endpoint: parsed.endpoint, keyId: parsed.keyId, secret: parsed.secret };
    cache.set(account, { at: Date.now(), value: credential });
    return credential;
  };
}
