import { RotationStateError } from "../../../core/errors";
import { DEFAULT_RECV_WINDOW_MS, MAX_RECV_WINDOW_MS } from "./signing";

/** How keyshift manages one Binance sub-account's keys: with its master account's key. */
export interface BinanceConfig {
  /** `https://api.binance.com` (default), another documented base endpoint, or the simulator. */
  endpoint: string;
  /** The master account's API key (an HMAC key made on the website, with Spot & Margin Trading enabled). */
  apiKey: string;
  apiSecret: string;
  /** The sub-account whose keys are rotated: Binance names sub-accounts by email in these endpoints. */
  subAccountEmail: string;
  /** `recvWindow` in ms; default 5000 (Binance's default). */
  recvWindowMs: number;
  /** Keys the sub-account may hold; Binance publishes no number (see docs/exchanges.md, Binance). */
  maxKeys: number;
}

export const DEFAULT_BINANCE_ENDPOINT = "https://api.binance.com";
/**
 * Binance's reference publishes no per-account (or per-sub-account) key limit; 30 is the figure
 * third-party guides repeat, unverified. It only decides when a refused create is reported as
 * the key limit (`ExchangeKeyLimitError`) and when CreateNext refuses up front; an operator who
 * knows the account's real limit sets `maxKeys`.
 */
export const DEFAULT_MAX_KEYS = 30;

const EXPECTED =
  'expected {"exchange":"binance","endpoint"?:"https://api.binance.com","apiKey":"<master key>",' +
  '"apiSecret":"<master secret>","subAccountEmail":"<sub-account email>","recvWindow"?:5000,"maxKeys"?:30}';
const TOKEN = /^[\x21-\x7e]{1,256}$/;
const EMAIL = /^[^\s@]{1,128}@[^\s@]{1,128}$/;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Parses a Binance admin secret. Throws `RotationStateError` naming the bad or missing field and
 * the expected JSON shape; never a value (the object holds the master secret).
 */
export function parseBinanceAdminSecret(json: unknown, secretId: string): BinanceConfig {
  const bad = (field: string, why: string) =>
    new RotationStateError(`admin secret ${secretId}: ${field} ${why}; ${EXPECTED}`);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw bad("the value", "is not a JSON object");
  }
  const o = json as Record<string, unknown>;
  if (o.exchange !== "binance") throw bad('"exchange"', 'must be "binance"');
  const endpoint = parseEndpoint(o.endpoint ?? DEFAULT_BINANCE_ENDPOINT, bad);
  if (typeof o.apiKey !== "string" || !TOKEN.test(o.apiKey)) {
    throw bad('"apiKey"', "must be the master account's API key (1 to 256 printable characters, no spaces)");
  }
  if (typeof o.apiSecret !== "string" || !TOKEN.test(o.apiSecret)) {
    throw bad('"apiSecret"', "must be the master key's secret (1 to 256 printable characters, no spaces)");
  }
  if (typeof o.subAccountEmail !== "string" || !EMAIL.test(o.subAccountEmail)) {
    throw bad('"subAccountEmail"', "must be the sub-account's email (its name in Binance's sub-account API)");
  }
  const recvWindowMs = optionalInt(o.recvWindow, DEFAULT_RECV_WINDOW_MS, 1, MAX_RECV_WINDOW_MS);
  if (recvWindowMs === undefined) throw bad('"recvWindow"', "must be an integer from 1 to 60000 (ms)");
  const maxKeys = optionalInt(o.maxKeys, DEFAULT_MAX_KEYS, 1, 1_000);
  if (maxKeys === undefined) throw bad('"maxKeys"', "must be an integer from 1 to 1000");
  return {
    endpoint,
    apiKey: o.apiKey,
    apiSecret: o.apiSecret,
    subAccountEmail: o.subAccountEmail,
    recvWindowMs,
    maxKeys,
  };
}

function parseEndpoint(value: unknown, bad: (field: string, why: string) => RotationStateError): string {
  const why = "must be an https URL of Binance's API (http only on localhost, for the simulator)";
  if (typeof value !== "string") throw bad('"endpoint"', why);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('"endpoint"', why);
  }
  // The master secret signs every call: never let it travel in clear to anything but this machine.
  const ok = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  if (!ok || url.username || url.password || url.search || url.hash) throw bad('"endpoint"', why);
  return value;
}

function optionalInt(value: unknown, fallback: number, min: number, max: number): number | undefined {
  if (value === undefined) return fallback;
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max
    ? value
    : undefined;
}
