import { RotationStateError } from "../../../core/errors";
import { parseObserverKey } from "../observer-key";

/** How keyshift manages one OKX sub-account's keys: with its master account's IP-bound key. */
export interface OkxConfig {
  /** `https://www.okx.com` (default), a regional host (`https://eea.okx.com`, …) or the simulator. */
  endpoint: string;
  /** The master account's API key (made by hand on the website, bound to keyshift's egress IPs). */
  apiKey: string;
  secretKey: string;
  /** The master key's passphrase, chosen when it was made. */
  passphrase: string;
  /** The sub-account whose keys are rotated (its name: OKX addresses sub-accounts by name). */
  subAcct: string;
  /** Demo trading: every request carries `x-simulated-trading: 1`; the keys are demo keys. */
  demo: boolean;
  /** Keys the sub-account may hold: OKX's 59501 "Only 50 APIKeys can be created per account". */
  maxKeys: number;
  /**
   * A read-only key OF THE SUB-ACCOUNT, with its passphrase, made by the firm for the hourly pull
   * only: OKX's fills are read by the account's own key, never by its master (docs/exchanges.md,
   * OKX, "What the exchange reports about use"). keyshift never lists, rotates or removes it.
   */
  observer?: { apiKey: string; secretKey: string; passphrase: string };
}

export const DEFAULT_OKX_ENDPOINT = "https://www.okx.com";
/** 59501 (OKX error table): "Only 50 APIKeys can be created per account". */
export const DEFAULT_MAX_KEYS = 50;

const EXPECTED =
  'expected {"exchange":"okx","endpoint"?:"https://www.okx.com","apiKey":"<master key>",' +
  '"secretKey":"<master secret key>","passphrase":"<master passphrase>","subAcct":"<sub-account name>",' +
  '"demo"?:true,"maxKeys"?:50,' +
  '"observer"?:{"apiKey":"<read-only key of the sub-account>","secretKey":"<its secret key>","passphrase":"<its passphrase>"}}';
const TOKEN = /^[\x21-\x7e]{1,256}$/;
/** "Sub-account name, supports 6 to 20 characters that include numbers and letters" (create sub-account). */
const SUB_ACCOUNT = /^[A-Za-z0-9]{6,20}$/;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Parses an OKX admin secret. Throws `RotationStateError` naming the bad or missing field and the
 * expected JSON shape; never a value (the object holds the master secret key and passphrase).
 */
export function parseOkxAdminSecret(json: unknown, secretId: string): OkxConfig {
  const bad = (field: string, why: string) =>
    new RotationStateError(`admin secret ${secretId}: ${field} ${why}; ${EXPECTED}`);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw bad("the value", "is not a JSON object");
  }
  const o = json as Record<string, unknown>;
  if (o.exchange !== "okx") throw bad('"exchange"', 'must be "okx"');
  const endpoint = parseEndpoint(o.endpoint ?? DEFAULT_OKX_ENDPOINT, bad);
  for (const [field, what] of [
    ["apiKey", "the master account's API key"],
    ["secretKey", "the master key's secret key"],
    ["passphrase", "the master key's passphrase"],
  ] as const) {
    const value = o[field];
    if (typeof value !== "string" || !TOKEN.test(value)) {
      throw bad(`"${field}"`, `must be ${what} (1 to 256 printable characters, no spaces)`);
    }
  }
  if (typeof o.subAcct !== "string" || !SUB_ACCOUNT.test(o.subAcct)) {
    throw bad('"subAcct"', "must be the sub-account's name (6 to 20 letters and digits)");
  }
  if (o.demo !== undefined && typeof o.demo !== "boolean") throw bad('"demo"', "must be true or false");
  const maxKeys = o.maxKeys ?? DEFAULT_MAX_KEYS;
  if (typeof maxKeys !== "number" || !Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1_000) {
    throw bad('"maxKeys"', "must be an integer from 1 to 1000");
  }
  const observer = parseObserverKey(
    o.observer,
    {
      shape: '{"apiKey","secretKey","passphrase"}',
      fields: [
        ["apiKey", "must be the sub-account's read-only API key (1 to 256 printable characters, no spaces)"],
        ["secretKey", "must be the observer key's secret key (1 to 256 printable characters, no spaces)"],
        ["passphrase", "must be the observer key's passphrase (1 to 256 printable characters, no spaces)"],
      ],
      masterKey: o.apiKey,
    },
    bad,
  );
  return {
    ...(observer ? { observer } : {}),
    endpoint,
    apiKey: o.apiKey as string,
    secretKey: o.secretKey as string,
    passphrase: o.passphrase as string,
    subAcct: o.subAcct,
    demo: o.demo === true,
    maxKeys,
  };
}

function parseEndpoint(value: unknown, bad: (field: string, why: string) => RotationStateError): string {
  const why = "must be an https URL of OKX's API (http only on localhost, for the simulator)";
  if (typeof value !== "string") throw bad('"endpoint"', why);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('"endpoint"', why);
  }
  // The master secret key signs every call and the passphrase travels in a header: never in clear
  // to anything but this machine.
  const ok = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  if (!ok || url.username || url.password || url.search || url.hash) throw bad('"endpoint"', why);
  return value;
}
