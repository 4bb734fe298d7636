import * as z from "zod/mini";

/**
 * Deribit's wire shapes (JSON-RPC 2.0 over HTTPS, `/api/v2/<method>`) and the error codes the
 * adapter acts on. Every code and field is sourced in docs/exchanges.md, Deribit.
 */
export const DERIBIT_API_PREFIX = "/api/v2/";

/** "The user can configure up to 8 different IDs": all of an account's keys, disabled ones included. */
export const DERIBIT_MAX_KEYS = 8;

/** Error codes (`error.code`) with a meaning keyshift acts on; everything else is a permanent failure. */
export const DERIBIT_ERROR = {
  authorizationRequired: 10000,
  error: 10001,
  tooManyRequests: 10028,
  retry: 10040,
  settlementInProgress: 10041,
  matchingEngineQueueFull: 10047,
  tooManyConcurrentRequests: 10066,
  systemMaintenance: 11051,
  internalServerError: 11094,
  tfaOverLimit: 12998,
  invalidCredentials: 13004,
  unauthorized: 13009,
  notFound: 13020,
  forbidden: 13021,
  temporarilyUnavailable: 13028,
  scopeExceeded: 13403,
  unavailable: 13503,
  securityKeyAuthorizationError: 13668,
  invalidParams: -32602,
} as const;

/** Worth another try: rate limits, maintenance, overload, "retry". */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  DERIBIT_ERROR.tooManyRequests,
  DERIBIT_ERROR.retry,
  DERIBIT_ERROR.settlementInProgress,
  DERIBIT_ERROR.matchingEngineQueueFull,
  DERIBIT_ERROR.tooManyConcurrentRequests,
  DERIBIT_ERROR.systemMaintenance,
  DERIBIT_ERROR.internalServerError,
  DERIBIT_ERROR.temporarilyUnavailable,
  DERIBIT_ERROR.unavailable,
]);

/** The key did not authenticate: bad or absent signature, stale timestamp, reused nonce, unknown or disabled key. */
export const AUTH_CODES: ReadonlySet<number> = new Set([
  DERIBIT_ERROR.authorizationRequired,
  DERIBIT_ERROR.invalidCredentials,
  DERIBIT_ERROR.unauthorized,
]);

export const errorSchema = z.object({
  code: z.number().check(z.int()),
  message: z.string(),
  data: z.optional(z.unknown()),
});

/** The envelope of every answer; `usIn`/`usOut`/`usDiff`/`testnet` are informative, not required. */
export const envelopeSchema = z.object({
  jsonrpc: z.literal("2.0"),
  id: z.optional(z.union([z.number(), z.string(), z.null()])),
  result: z.optional(z.unknown()),
  error: z.optional(errorSchema),
  usIn: z.optional(z.number()),
  usOut: z.optional(z.number()),
  usDiff: z.optional(z.number()),
  testnet: z.optional(z.boolean()),
});

/** A security-key (2FA) challenge: a *result*, not an error, in place of the method's answer. */
export const challengeSchema = z.object({
  security_key_authorization_required: z.literal(true),
  challenge: z.string().check(z.minLength(1)),
  security_keys: z.optional(z.array(z.object({ type: z.string(), name: z.optional(z.string()) }))),
  rp_id: z.optional(z.string()),
});

/** `data.reason` of error 13668 (security_key_authorization_error). */
export const tfaErrorDataSchema = z.object({ reason: z.string() });

/** An API key as `list_api_keys` / `create_api_key` / `edit_api_key` / `*able_api_key` show it. */
export const apiKeySchema = z.object({
  id: z.number().check(z.int(), z.nonnegative()),
  client_id: z.string().check(z.minLength(1)),
  max_scope: z.string(),
  enabled: z.boolean(),
  // Milliseconds since the epoch, within what a Date can hold.
  timestamp: z.number().check(z.nonnegative(), z.lte(8.64e15)),
  name: z.optional(z.string()),
  ip_whitelist: z.optional(z.nullable(z.array(z.string()))),
  // Published examples of list_api_keys carry every key's client_secret: it is read here only to
  // be dropped (never copied into an ExchangeKey) — except at creation, where it is the point.
  client_secret: z.optional(z.string()),
});
export type DeribitApiKey = z.infer<typeof apiKeySchema>;

export const apiKeyListSchema = z.array(apiKeySchema);

/** `private/get_account_summary` with `extended=true`: the fields that name the account. */
export const accountSummarySchema = z.object({
  id: z.number().check(z.int()),
  username: z.optional(z.string()),
  type: z.optional(z.string()),
});

/** `private/remove_api_key` answers the string "ok"; nothing else is a removal. */
export const okSchema = z.literal("ok");
