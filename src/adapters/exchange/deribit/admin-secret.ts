import { RotationStateError } from "../../../core/errors";
import { base32Decode, InvalidTotpSeedError } from "./totp";

/**
 * What the Deribit adapter needs per exchange account, read from that account's admin secret.
 * The admin key is a Deribit API key of the account itself with scope `account:read_write`
 * (plus at least every scope of the keys it rotates: Deribit refuses to grant more).
 */
export interface DeribitAdminConfig {
  /** `https://test.deribit.com` or `https://www.deribit.com` (or a proxy in front of either). */
  endpoint: string;
  clientId: string;
  clientSecret: string;
  /**
   * The Deribit user id of the (sub)account the admin key belongs to (`id` of
   * `private/get_account_summary` with `extended=true`). Every listing checks it, so an admin
   * secret pointing at another account fails instead of "confirming" removals there.
   */
  accountId: number;
  /** Base32 2FA secret, only if Deribit asks for security-key confirmation of key management. */
  totpSeed?: string;
}

export const DERIBIT_ADMIN_SECRET_SHAPE =
  '{"exchange":"deribit","endpoint":"https://test.deribit.com","clientId":"…","clientSecret":"…","accountId":123456,"totpSeed"?:"BASE32…"}';

const FIELDS = new Set(["exchange", "endpoint", "clientId", "clientSecret", "accountId", "totpSeed"]);
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
/** What a field name looks like: snake_case or camelCase words (`totp_seed`, `clientSecret`), no digits. */
const FIELD_NAME = /^(?:[a-z][a-z_]{0,23}|[a-z]+(?:[A-Z][a-z]+){1,4})$/;

/**
 * Parses a Deribit admin secret (the JSON text or its parsed value). Throws `RotationStateError`
 * naming the bad or missing field and the expected shape — never a value.
 */
export function parseDeribitAdminSecret(json: unknown, secretId: string): DeribitAdminConfig {
  const bad = (what: string) =>
    new RotationStateError(`admin secret ${secretId}: ${what}; expected ${DERIBIT_ADMIN_SECRET_SHAPE}`);
  let value = json;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      throw bad("is not JSON (value not shown)");
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("is not a JSON object");
  const secret = value as Record<string, unknown>;
  const unknown = Object.keys(secret).filter((key) => !FIELDS.has(key));
  if (unknown.length > 0) {
    // A misspelt optional field (`totp_seed`) would otherwise be silently ignored. A name is shown
    // only when it reads as one: a secret pasted as a key (`{"Ut_HrDF…": ""}`) must not be echoed.
    const shown = unknown.map((k) => (FIELD_NAME.test(k) ? JSON.stringify(k) : "(a name not shown)"));
    throw bad(`unknown field(s) ${shown.join(", ")}`);
  }
  if (secret.exchange !== "deribit") throw bad('field "exchange" must be "deribit"');

  const endpoint = requiredString(secret, "endpoint", bad);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw bad('field "endpoint" is not a URL');
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    // Signatures protect integrity, not confidentiality: a new key's secret comes back in the answer.
    throw bad('field "endpoint" must be an https:// URL (http:// only for a local simulator)');
  }
  if (url.search || url.hash) throw bad('field "endpoint" must not carry a query or fragment');

  const clientId = requiredString(secret, "clientId", bad);
  if (/\s|,/.test(clientId)) throw bad('field "clientId" must not contain spaces or commas');
  const clientSecret = requiredString(secret, "clientSecret", bad);

  const accountId = secret.accountId;
  if (accountId === undefined) throw bad('field "accountId" is missing');
  if (typeof accountId !== "number" || !Number.isSafeInteger(accountId) || accountId <= 0) {
    throw bad('field "accountId" must be the account\'s positive integer Deribit user id');
  }

  const config: DeribitAdminConfig = { endpoint, clientId, clientSecret, accountId };
  if (secret.totpSeed !== undefined) {
    const seed = requiredString(secret, "totpSeed", bad);
    try {
      // Authenticator seeds carry at least 80 bits (16 base32 characters).
      if (base32Decode(seed).length < 10) throw bad('field "totpSeed" is shorter than 80 bits');
    } catch (err) {
      if (err instanceof InvalidTotpSeedError) throw bad('field "totpSeed" is not base32 (A-Z, 2-7)');
      throw err;
    }
    config.totpSeed = seed;
  }
  return config;
}

function requiredString(
  secret: Record<string, unknown>,
  field: string,
  bad: (what: string) => RotationStateError,
): string {
  const value = secret[field];
  if (value === undefined) throw bad(`field "${field}" is missing`);
  if (typeof value !== "string" || value.trim() === "")
    throw bad(`field "${field}" must be a non-empty string`);
  return value;
}
