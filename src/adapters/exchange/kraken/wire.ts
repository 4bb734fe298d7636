import * as z from "zod/mini";

/**
 * Kraken's answer envelope (spot REST reference, "Responses are JSON encoded and contain one or
 * two top-level keys (result and error …)"): `error` is an array of strings
 * `<severity><category>:<message>` (`E` error, `W` warning); an empty array is success.
 */
export const envelopeSchema = z.object({
  error: z.array(z.string()),
  result: z.optional(z.unknown()),
});

export type ErrorKind = "retryable" | "auth" | "nonce" | "permission" | "arguments";

/**
 * The error strings keyshift acts on, from Kraken's "Spot Error Messages" guide
 * (docs.kraken.com/api/docs/guides/spot-errors) and support article 360001491786 "API error
 * messages". Matched exactly or as a prefix (`EGeneral:Internal error[:<code>]`). Kraken publishes
 * no distinct string for a key used from outside its IP allow-list: see `verify.ts`.
 */
export const KRAKEN_ERRORS: ReadonlyArray<{ prefix: string; kind: ErrorKind; hint: string }> = [
  {
    prefix: "EAPI:Invalid key",
    kind: "auth",
    hint: "Kraken does not know this API key (mistyped, deleted, or expired); repeated, it triggers EGeneral:Temporary lockout",
  },
  {
    prefix: "EAPI:Invalid signature",
    kind: "auth",
    hint: "the API-Sign does not verify: the private key does not belong to this API key, or was copied wrong",
  },
  {
    prefix: "EAPI:Invalid nonce",
    kind: "nonce",
    hint: "the nonce is not above the highest this key has used (another client signs with it on a larger nonce scale, or the key's nonce window is too small)",
  },
  {
    prefix: "EGeneral:Permission denied",
    kind: "permission",
    hint: "the key may not make this call",
  },
  {
    prefix: "EGeneral:Invalid arguments",
    kind: "arguments",
    hint: "Kraken refused the request's parameters",
  },
  { prefix: "EGeneral:Unknown method", kind: "arguments", hint: "Kraken has no such private method" },
  { prefix: "EAPI:Rate limit exceeded", kind: "retryable", hint: "rate limit; retried later" },
  {
    prefix: "EGeneral:Temporary lockout",
    kind: "retryable",
    hint: "Kraken locked the key out after repeated invalid-key errors (a few minutes); retried later",
  },
  { prefix: "EService:Unavailable", kind: "retryable", hint: "Kraken's API is offline; retried later" },
  { prefix: "EService:Busy", kind: "retryable", hint: "Kraken is busy; retried later" },
  {
    prefix: "EService:Deadline elapsed",
    kind: "retryable",
    hint: "Kraken timed the request out; retried later",
  },
  { prefix: "EGeneral:Internal error", kind: "retryable", hint: "Kraken's internal error; retried later" },
];

export function classifyError(text: string): (typeof KRAKEN_ERRORS)[number] | undefined {
  return KRAKEN_ERRORS.find((rule) => text === rule.prefix || text.startsWith(`${rule.prefix}:`));
}

/** Kraken's error strings are short `E<Category>:<text>`; anything else from an answer is not shown. */
export const ERROR_SHAPE = /^[EW][A-Za-z]{1,20}:[A-Za-z0-9 _:.,'()-]{1,80}$/;

/**
 * `POST /0/private/GetApiKeyInfo` (docs.kraken.com/api-reference/account-data/get-api-key-info,
 * "API Key Permissions Required: None"): the calling key describes itself. Numbers come as decimal
 * strings in the published example; both forms are taken.
 */
const decimal = z.union([z.string().check(z.regex(/^\d{1,20}$/)), z.number()]);
export const apiKeyInfoSchema = z.object({
  apiKeyName: z.string(),
  apiKey: z.string(),
  nonce: z.optional(decimal),
  nonceWindow: z.optional(decimal),
  permissions: z.array(z.string()),
  validUntil: z.optional(decimal),
  queryFrom: z.optional(decimal),
  queryTo: z.optional(decimal),
  createdTime: z.optional(decimal),
  modifiedTime: z.optional(decimal),
  ipAllowlist: z.array(z.string()),
  lastUsed: z.optional(decimal),
});
export type ApiKeyInfoWire = z.infer<typeof apiKeyInfoSchema>;

/** `POST /0/private/Balance` (needs "Query Funds"): asset → balance, as decimal strings. */
export const balanceSchema = z.record(z.string(), z.string());

/**
 * The permission names `GetApiKeyInfo` returns, against the web UI's labels (Settings → API).
 * Only the first four appear in Kraken's published example; the rest follow the same pattern and
 * the Fast API key fields (`funds_add`, `trades_close`, …) and are unconfirmed (docs/exchanges.md).
 */
export const KRAKEN_PERMISSIONS = {
  "query-funds": "Query Funds",
  "withdraw-funds": "Withdraw Funds",
  "query-open-trades": "Query Open Orders & Trades",
  "modify-trades": "Create & Modify Orders",
  "deposit-funds": "Deposit Funds",
  "earn-funds": "Earn Funds",
  "query-closed-trades": "Query Closed Orders & Trades",
  "close-trades": "Cancel/Close Orders",
  "query-ledger": "Query Ledger Entries",
  "export-data": "Export Data",
  "access-websockets": "Access WebSockets API",
} as const;
