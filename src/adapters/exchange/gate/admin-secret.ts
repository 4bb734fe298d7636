import { RotationStateError } from "../../../core/errors";

/** How keyshift manages one Gate sub-account's keys: with its main account's API key. */
export interface GateConfig {
  /** `https://api.gateio.ws` (default; the API is under `/api/v4`) or the simulator. */
  endpoint: string;
  /** The main account's APIv4 key (made by hand on the website, bound to keyshift's egress IPs). */
  apiKey: string;
  apiSecret: string;
  /** The sub-account whose keys are rotated: its `user_id` (Gate addresses sub-accounts by it). */
  userId: string;
  /** `mode` sent for a new key (1 classic, 2 portfolio account); absent: Gate's default. */
  mode?: 1 | 2;
  /** Keys the sub-account may hold (unverified figure: docs/exchanges.md, Gate, "Limits"). */
  maxKeys: number;
}

export const DEFAULT_GATE_ENDPOINT = "https://api.gateio.ws";
/** No published figure was found; 20 is keyshift's assumption until a run against Gate says otherwise. */
export const DEFAULT_MAX_KEYS = 20;

const EXPECTED =
  'expected {"exchange":"gate","endpoint"?:"https://api.gateio.ws","apiKey":"<main account key>",' +
  '"apiSecret":"<main account secret>","userId":"<sub-account user_id>","mode"?:1,"maxKeys"?:20}';
const TOKEN = /^[\x21-\x7e]{1,256}$/;
const USER_ID = /^[1-9][0-9]{0,15}$/;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Parses a Gate admin secret. Throws `RotationStateError` naming the bad or missing field and the
 * expected JSON shape; never a value (the object holds the main account's secret).
 */
export function parseGateAdminSecret(json: unknown, secretId: string): GateConfig {
  const bad = (field: string, why: string) =>
    new RotationStateError(`admin secret ${secretId}: ${field} ${why}; ${EXPECTED}`);
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw bad("the value", "is not a JSON object");
  }
  const o = json as Record<string, unknown>;
  if (o.exchange !== "gate") throw bad('"exchange"', 'must be "gate"');
  const endpoint = parseEndpoint(o.endpoint ?? DEFAULT_GATE_ENDPOINT, bad);
  for (const [field, what] of [
    ["apiKey", "the main account's APIv4 key"],
    ["apiSecret", "the main account key's secret"],
  ] as const) {
    const value = o[field];
    if (typeof value !== "string" || !TOKEN.test(value)) {
      throw bad(`"${field}"`, `must be ${what} (1 to 256 printable characters, no spaces)`);
    }
  }
  const userId = typeof o.userId === "number" && Number.isSafeInteger(o.userId) ? String(o.userId) : o.userId;
  if (typeof userId !== "string" || !USER_ID.test(userId)) {
    throw bad('"userId"', "must be the sub-account's user_id (digits)");
  }
  if (o.mode !== undefined && o.mode !== 1 && o.mode !== 2) throw bad('"mode"', "must be 1 or 2");
  const maxKeys = o.maxKeys ?? DEFAULT_MAX_KEYS;
  if (typeof maxKeys !== "number" || !Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1_000) {
    throw bad('"maxKeys"', "must be an integer from 1 to 1000");
  }
  return {
    endpoint,
    apiKey: o.apiKey as string,
    apiSecret: o.apiSecret as string,
    userId,
    ...(o.mode !== undefined ? { mode: o.mode } : {}),
    maxKeys,
  };
}

function parseEndpoint(value: unknown, bad: (field: string, why: string) => RotationStateError): string {
  const why =
    "must be an https URL of Gate's API host, without a path (http only on localhost, for the simulator)";
  if (typeof value !== "string") throw bad('"endpoint"', why);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad('"endpoint"', why);
  }
  // The signature covers the request path: a base path in front of /api/v4 would be signed too
  // and Gate would refuse it. The main secret signs every call: never in clear beyond this machine.
  const ok = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  const bare = url.pathname === "/" && !url.username && !url.password && !url.search && !url.hash;
  if (!ok || !bare) throw bad('"endpoint"', why);
  return url.origin;
}
