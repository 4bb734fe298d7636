/**
 * Every shape of secret keyshift handles, and what in each is secret material. One module so the
 * leak oracles — the local stack's "secret scan" and the simulation's I7 — cannot drift apart from
 * the secrets the product stores (I7: no secret value in a log, an error, an audit entry, an alert).
 *
 * The secret strings a Secrets Manager holds:
 * - an exchange key: `{"account","keyId","secret","permissions"}`;
 * - a Deribit admin secret: `{"exchange":"deribit","clientId","clientSecret","totpSeed"?,...}`;
 * - a Bybit admin secret: `{"exchange":"bybit","apiKey","apiSecret","subuid",...}`;
 * - an OKX admin secret: `{"exchange":"okx","apiKey","secretKey","passphrase","subAcct","demo"?,...}`
 *   (the master key's secret key and passphrase are both secret material);
 * - an OKX exchange key: the exchange-key shape plus `"passphrase"`, the key's own (secret too);
 * - a Binance admin secret: `{"exchange":"binance","endpoint"?,"apiKey","apiSecret","subAccountEmail",...}`;
 * - (harness only) the test protocol's admin secret, `{"exchange":"keyshift-sim","endpoint","keyId","secret"}`;
 * - anything else (a plain string): secret as a whole.
 * Ids, endpoints, accounts and permissions are not secret (they belong in messages); every field
 * named like a secret is, whatever the shape, so a new shape errs on the side of finding leaks.
 */

/** The fields of the shapes above whose values are secret material. */
export const SECRET_FIELDS = ["secret", "clientSecret", "apiSecret", "totpSeed"] as const;
/** Any other field named like one (`client_secret`, `password`, `privateKey`, `token`, `seed`). */
const SECRET_LIKE_FIELD = /secret|seed|passw|passphrase|private|token|credential/i;

/** A leaked piece this long is a leak: long enough that no unrelated text repeats it by chance. */
export const SECRET_PIECE_LENGTH = 16;
/** Shorter material is looked for whole, down to this length; below it matching would be noise. */
export const MIN_WHOLE_SECRET_LENGTH = 8;

/**
 * The secret material in one stored secret string: the whole string, and every secret-bearing
 * field value of a JSON one (a TOTP seed also as an authenticator shows it: no spaces or dashes,
 * upper case, no padding). A JSON object with no field named like a secret is an unknown shape:
 * every string in it counts. Never empty strings; no duplicates.
 */
export function secretMaterial(stored: string): { whole: string; fields: string[]; json: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return { whole: stored, fields: [], json: false };
  }
  if (typeof parsed !== "object" || parsed === null) return { whole: stored, fields: [], json: false };
  const fields = new Set<string>();
  collect(parsed, fields, 0, isSecretField);
  if (fields.size === 0) collect(parsed, fields, 0, () => true);
  fields.delete("");
  return { whole: stored, fields: [...fields], json: true };
}

function collect(value: unknown, into: Set<string>, depth: number, secret: (name: string) => boolean): void {
  if (depth > 4 || typeof value !== "object" || value === null) return;
  for (const [name, field] of Object.entries(value)) {
    if (typeof field === "string" && secret(name)) {
      into.add(field);
      if (/seed/i.test(name)) into.add(normalizedSeed(field));
    } else {
      collect(field, into, depth + 1, secret);
    }
  }
}

export function isSecretField(name: string): boolean {
  return (SECRET_FIELDS as readonly string[]).includes(name) || SECRET_LIKE_FIELD.test(name);
}

/** A base32 seed as an authenticator (and Deribit) shows it. */
export function normalizedSeed(seed: string): string {
  return seed.replace(/[\s-]/g, "").replace(/=+$/, "").toUpperCase();
}

/** `s` as it appears inside a JSON string, and inside a JSON string inside a JSON string. */
function escapedForms(s: string): string[] {
  const once = JSON.stringify(s).slice(1, -1);
  const twice = JSON.stringify(once).slice(1, -1);
  return [s, once, twice];
}

/**
 * Looks for secret material in text: each material whole, and any 16-character piece of it, raw or
 * JSON-escaped (once or twice: a JSON body logged inside a JSON line). Reports which secret, never
 * the value. Pieces are taken of secret-bearing values only, never of a stored JSON's public
 * fields (an endpoint in a log is no leak); the stored string is also looked for whole.
 */
export class SecretNeedles {
  private readonly pieces = new Map<string, number>();
  private readonly wholes: Array<{ needle: string; index: number }> = [];

  /** Adds one stored secret string (its material, as `secretMaterial` extracts it) under `index`. */
  add(stored: string, index = 0): void {
    const { whole, fields, json } = secretMaterial(stored);
    for (const material of json ? fields : [whole]) this.addMaterial(material, index);
    if (json) for (const form of escapedForms(whole)) this.wholes.push({ needle: form, index });
  }

  private addMaterial(material: string, index: number): void {
    for (const form of escapedForms(material)) {
      if (form.length >= SECRET_PIECE_LENGTH) {
        for (let i = 0; i + SECRET_PIECE_LENGTH <= form.length; i++) {
          const piece = form.slice(i, i + SECRET_PIECE_LENGTH);
          if (!this.pieces.has(piece)) this.pieces.set(piece, index);
        }
      } else if (form.length >= MIN_WHOLE_SECRET_LENGTH) {
        this.wholes.push({ needle: form, index });
      }
    }
  }

  /** The index of every secret whose material `text` holds (each once, in first-found order). */
  find(text: string): number[] {
    const found = new Set<number>();
    for (let i = 0; i + SECRET_PIECE_LENGTH <= text.length; i++) {
      const index = this.pieces.get(text.slice(i, i + SECRET_PIECE_LENGTH));
      if (index !== undefined) found.add(index);
    }
    for (const { needle, index } of this.wholes) if (text.includes(needle)) found.add(index);
    return [...found];
  }
}
