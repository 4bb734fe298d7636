import { RotationStateError } from "../../../core/errors";

/** How keyshift manages one Kraken account's keys: it does not; a person makes and deletes them. */
export interface KrakenAccountConfig {
  exchange: "kraken";
  keyManagement: "manual";
  /** `https://api.kraken.com` unless set (the simulator, a proxy). */
  endpoint: string;
}

export const KRAKEN_DEFAULT_ENDPOINT = "https://api.kraken.com";

const EXPECTED =
  'expected {"exchange":"kraken","keyManagement":"manual","endpoint"?:"https://api.kraken.com"}';
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);
const ALLOWED = new Set(["exchange", "keyManagement", "endpoint"]);

/**
 * Parses a Kraken account's configuration (the admin secret's place). There is no admin key:
 * Kraken's spot API cannot create or delete keys, so an `apiKey`/`apiSecret` here is refused
 * rather than stored where nothing uses it. Throws `RotationStateError` naming the field, never a value.
 */
export function parseKrakenAccountConfig(json: unknown, secretId: string): KrakenAccountConfig {
  const bad = (field: string, why: string) =>
    new RotationStateError(`account config ${secretId}: ${field} ${why}; ${EXPECTED}`);
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw bad("the value", "is not a JSON object");
  const o = json as Record<string, unknown>;
  if (o.exchange !== "kraken") throw bad('"exchange"', 'must be "kraken"');
  if (o.keyManagement !== "manual") {
    throw bad(
      '"keyManagement"',
      'must be "manual" (Kraken keys are made and deleted by a person in the web UI)',
    );
  }
  const extra = Object.keys(o).filter((k) => !ALLOWED.has(k));
  if (extra.length > 0) {
    // Names only when they look like field names: a key pasted as a field name must not be echoed.
    const names = extra.map((k) => (/^[A-Za-z_]{1,32}$/.test(k) ? `"${k}"` : "?")).join(", ");
    throw bad(names, "not expected: a manual Kraken account holds no admin key (a person manages keys)");
  }
  return { exchange: "kraken", keyManagement: "manual", endpoint: parseEndpoint(o.endpoint, bad) };
}

function parseEndpoint(value: unknown, bad: (field: string, why: string) => RotationStateError): string {
  if (value === undefined) return KRAKEN_DEFAULT_ENDPOINT;
  const why = "must be an https URL of Kraken's API (http only on localhost, for the simulator)";
  if (typeof value !== "string") throw bad('"endpoint"', why);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('"endpoint"', why);
  }
  // Every key keyshift verifies signs calls to it: never send a signature in clear off this machine.
  const ok = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  if (!ok || url.username || url.password || url.search || url.hash) throw bad('"endpoint"', why);
  return value;
}
