import type { KeyRequest } from "../model";
import type { ExchangeKey, ExchangeKeyCredential } from "../ports";
import { ManualTaskRefusedError } from "./errors";

/**
 * The key an operator hands over, as a file or stdin: `{"keyId":"…","secret":"…"}` (Kraken's UI
 * names them "API key" and "private key": `apiKey`/`privateKey` are accepted too). A refusal names
 * what is wrong, never any part of the value.
 */
export function parseProvidedKey(text: string): ExchangeKeyCredential {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ManualTaskRefusedError(
      'the key file is not JSON (contents not shown); expected {"keyId":"<API key>","secret":"<private key>"}',
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ManualTaskRefusedError('the key file must hold one JSON object {"keyId":"…","secret":"…"}');
  }
  const o = json as Record<string, unknown>;
  const known = new Set(["keyId", "secret", "apiKey", "privateKey"]);
  const extra = Object.keys(o).filter((k) => !known.has(k));
  if (extra.length > 0) {
    const names = extra.map((k) => (/^[A-Za-z_]{1,32}$/.test(k) ? `"${k}"` : "?")).join(", ");
    throw new ManualTaskRefusedError(`the key file has fields keyshift does not expect: ${names}`);
  }
  const keyId = o.keyId ?? o.apiKey;
  const secret = o.secret ?? o.privateKey;
  if (
    typeof keyId !== "string" ||
    keyId.trim() === "" ||
    typeof secret !== "string" ||
    secret.trim() === ""
  ) {
    throw new ManualTaskRefusedError(
      'the key file needs "keyId" (the API key) and "secret" (its private key), both non-empty strings',
    );
  }
  return { keyId: keyId.trim(), secret: secret.trim() };
}

/**
 * Whether a key a person made is the one asked for: the label, exactly the replaced key's
 * permissions (broader would widen what a leak gives; narrower would break the consumers), and an
 * IP binding that lets keyshift's egress in and allows nothing the request did not. Returns the
 * reasons it is not, empty when it is.
 */
export function mismatchesOf(described: ExchangeKey, request: KeyRequest): string[] {
  const reasons: string[] = [];
  if (described.label !== request.label) {
    reasons.push(
      `its name is "${described.label}", not "${request.label}" (keyshift finds its keys by this name)`,
    );
  }
  const asked = new Set(request.permissions);
  const has = new Set(described.permissions);
  const broader = [...has].filter((p) => !asked.has(p));
  const missing = [...asked].filter((p) => !has.has(p));
  if (broader.length > 0) reasons.push(`it has permissions the replaced key does not: ${broader.join(", ")}`);
  if (missing.length > 0) reasons.push(`it lacks permissions the consumers use: ${missing.join(", ")}`);
  const bound = described.ipAllowlist ?? [];
  if (request.ipAllowlist.length > 0) {
    if (bound.length === 0) {
      reasons.push(
        `it is callable from any address; the replaced key was bound to ${request.ipAllowlist.join(", ")}`,
      );
    } else {
      const wider = bound.filter((ip) => !request.ipAllowlist.includes(ip));
      const lacking = request.egressIps.filter((ip) => !bound.includes(ip));
      if (wider.length > 0)
        reasons.push(`its IP allow-list adds ${wider.join(", ")}, which the request does not`);
      if (lacking.length > 0) reasons.push(`its IP allow-list lacks keyshift's egress ${lacking.join(", ")}`);
    }
  } else if (bound.length > 0) {
    reasons.push(
      `it is bound to ${bound.join(", ")}; the replaced key is unbound, so its consumers may call from anywhere`,
    );
  }
  return reasons;
}
