import { RotationStateError } from "../../../core/errors";
import { parseObserverKey } from "../observer-key";
import { DEFAULT_RECV_WINDOW_MS } from "./signing";

/** How keyshift manages one Bybit sub-account's keys: with its master account's key. */
export interface BybitConfig {
  /** `https://api.bybit.com`, `https://api-testnet.bybit.com`, a regional host, or the simulator. */
  endpoint: string;
  /** The master account's API key (made by hand on the website: master keys are console-only). */
  apiKey: string;
  apiSecret: string;
  /** The sub-account whose keys are rotated (Bybit UID, digits). */
  subuid: string;
  /** `X-BAPI-RECV-WINDOW` in ms; default 5000 (the guide's default). */
  recvWindowMs: number;
  /** Keys the sub-account may hold; Bybit's own limit is not published (see docs/exchanges.md, Bybit). */
  maxKeys: number;
  /**
   * A read-only key OF THE SUB-ACCOUNT, made by the firm, for the hourly pull only: Bybit's
   * executions are read by the account's own key, never by its master (docs/exchanges.md, Bybit,
   * "What the exchange reports about use"). keyshift never lists, rotates or removes it.
   */
  observer?: { apiKey: string; apiSecret: string };
}

/** Assumed until Bybit publishes the per-sub-account limit; an operator who knows better sets `maxKeys`. */
export const DEFAULT_MAX_KEYS = 20;

const EXPECTED =
  'expected {"exchange":"bybit","endpoint":"https://api-testnet.bybit.com","apiKey":"<master key>",' +
  '"apiSecret":"<master secret>","subuid":"<sub-account UID>","recvWindow"?:5000,"maxKeys"?:20,' +
  '"observer"?:{"apiKey":"<read-only key of the sub-account>","apiSecret":"<its secret>"}}';
const TOKEN = /^[\x21-\x7e]{1,256}$/;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Parses a Bybit admin secret. Throws `RotationStateError` naming the bad or missing field and the
 * expected JSON shape; never a value (the object holds the master secret).
 */
export function parseBybitAdminSecret(json: unknown, secretId: string): BybitConfig {
  const bad = (field: string, why: string) =>
    new RotationStateError(`admin secret ${secretId}: ${field} ${why}; ${EXPECTED}`);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw bad("the value", "is not a JSON object");
  }
  const o = json as Record<string, unknown>;
  if (o.exchange !== "bybit") throw bad('"exchange"', 'must be "bybit"');
  const endpoint = parseEndpoint(o.endpoint, bad);
  if (typeof o.apiKey !== "string" || !TOKEN.test(o.apiKey)) {
    throw bad('"apiKey"', "must be the master account's API key (1 to 256 printable characters, no spaces)");
  }
  if (typeof o.apiSecret !== "string" || !TOKEN.test(o.apiSecret)) {
    throw bad('"apiSecret"', "must be the master key's secret (1 to 256 printable characters, no spaces)");
  }
  const subuid = typeof o.subuid === "number" && Number.isSafeInteger(o.subuid) ? String(o.subuid) : o.subuid;
  if (typeof subuid !== "string" || !/^[1-9][0-9]{0,15}$/.test(subuid)) {
    throw bad('"subuid"', "must be the sub-account's UID (digits, as a string)");
  }
  const recvWindowMs = optionalInt(o.recvWindow, DEFAULT_RECV_WINDOW_MS, 1, 60_000);
  if (recvWindowMs === undefined) throw bad('"recvWindow"', "must be an integer from 1 to 60000 (ms)");
  const maxKeys = optionalInt(o.maxKeys, DEFAULT_MAX_KEYS, 1, 1_000);
  if (maxKeys === undefined) throw bad('"maxKeys"', "must be an integer from 1 to 1000");
  const observer = parseObserverKey(
    o.observer,
    {
      shape: '{"apiKey","apiSecret"}',
      fields: [
        ["apiKey", "must be the sub-account's read-only API key (1 to 256 printable characters)"],
        ["apiSecret", "must be the observer key's secret (1 to 256 printable characters)"],
      ],
      masterKey: o.apiKey,
    },
    bad,
  );
  return {
    endpoint,
    apiKey: o.apiKey,
    apiSecret: o.apiSecret,
    subuid,
    recvWindowMs,
    maxKeys,
    ...(observer ? { observer } : {}),
  };
}

function parseEndpoint(value: unknown, bad: (field: string, why: string) => RotationStateError): string {
  const why = "must be an https URL of Bybit's API (http only on localhost, for the simulator)";
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
