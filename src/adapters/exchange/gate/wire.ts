import * as z from "zod/mini";

/**
 * Gate APIv4 wire shapes keyshift relies on (sources per field in docs/exchanges.md, Gate): the
 * sub-account API key object `SubAccountKey` (gateio/gateapi-python `docs/SubAccountKey.md`,
 * `docs/SubAccountKeyPerms.md`), `AccountDetail` (`docs/AccountDetail.md`) and the error body
 * `{label, message}` (`gate_api/exceptions.py` `GateApiException`; ccxt `ts/src/gate.ts`
 * `handleErrors`). Loose objects: Gate adds fields over time; what keyshift reads must be there
 * with the documented type.
 */

/** Every refusal: `{label, message}` (sometimes `detail`), whatever the HTTP status. */
export const errorSchema = z.looseObject({
  label: z.string().check(z.minLength(1)),
  message: z.optional(z.nullable(z.string())),
  detail: z.optional(z.nullable(z.string())),
});

/** One entry of `perms`: a function name and whether the key may only read it. */
export const permSchema = z.looseObject({
  name: z.string(),
  read_only: z.optional(z.boolean()),
});

/** `user_id` was a string in older versions of the reference and is an integer now: either is read. */
const userIdSchema = z.union([z.number(), z.string()]);
/** Times were strings in older versions of the reference and are integers (Unix seconds) now. */
const secondsSchema = z.union([z.number(), z.string()]);

/** `SubAccountKey`, as listed (`GET /sub_accounts/{user_id}/keys`) or fetched alone (`…/keys/{key}`). */
export const subAccountKeySchema = z.looseObject({
  user_id: z.optional(userIdSchema),
  mode: z.optional(z.number()),
  name: z.optional(z.nullable(z.string())),
  perms: z.optional(z.nullable(z.array(permSchema))),
  ip_whitelist: z.optional(z.nullable(z.array(z.string()))),
  key: z.string().check(z.minLength(1)),
  /** 1 is normal; 2 and 3 are frozen or locked (the reference's versions disagree on which is which). */
  state: z.optional(z.number()),
  /** Unix seconds. */
  created_at: secondsSchema,
  updated_at: z.optional(secondsSchema),
  /** Unix seconds of the key's last use; 0 (or absent) when never used. */
  last_access: z.optional(z.nullable(secondsSchema)),
});

export const keyListSchema = z.array(subAccountKeySchema);

/**
 * `POST /sub_accounts/{user_id}/keys`: the key object, and its secret — the only time Gate shows
 * it. The published schema names no secret field (gateapi-python issue #175 asks where it is);
 * keyshift reads `secret`, unverified until a run against Gate (docs/exchanges.md, Gate).
 */
export const createdKeySchema = z.looseObject({
  ...subAccountKeySchema.shape,
  secret: z.string().check(z.minLength(1)),
});

/** `GET /account/detail`, signed by the key being checked: whose key it is. */
export const accountDetailSchema = z.looseObject({
  user_id: userIdSchema,
  ip_whitelist: z.optional(z.nullable(z.array(z.string()))),
});

export type SubAccountKey = z.infer<typeof subAccountKeySchema>;
export type GatePerm = z.infer<typeof permSchema>;

export interface LabelRule {
  kind: "retryable" | "auth" | "ip";
  /** What the operator should check; appended to the error message. */
  hint: string;
}

/**
 * Labels with a meaning keyshift acts on (Gate's label list as ccxt's `exceptions.exact` restates
 * it, citing https://www.gate.io/docs/developers/apiv4/en/#label-list). Every other label is a
 * refusal of the operation itself, never a success.
 */
export const LABELS: Readonly<Record<string, LabelRule>> = {
  TOO_MANY_REQUESTS: { kind: "retryable", hint: "rate limit reached; retry later" },
  TOO_FAST: { kind: "retryable", hint: "requests too frequent; retry later" },
  INTERNAL: { kind: "retryable", hint: "Gate internal error" },
  SERVER_ERROR: { kind: "retryable", hint: "Gate server error" },
  TOO_BUSY: { kind: "retryable", hint: "Gate is busy" },
  INVALID_KEY: { kind: "auth", hint: "the API key is unknown to Gate (removed, or never made)" },
  INVALID_SIGNATURE: { kind: "auth", hint: "signature rejected: the secret does not match the key" },
  INVALID_CREDENTIALS: { kind: "auth", hint: "credentials rejected" },
  AUTHENTICATION_FAILED: { kind: "auth", hint: "authentication failed" },
  MISSING_REQUIRED_HEADER: { kind: "auth", hint: "a KEY, SIGN or Timestamp header is missing" },
  REQUEST_EXPIRED: {
    kind: "auth",
    hint: "Timestamp too far from Gate's clock: check this host's clock (NTP)",
  },
  READ_ONLY: { kind: "auth", hint: "the key is read-only for this operation" },
  FORBIDDEN: { kind: "auth", hint: "the key lacks the permission this endpoint needs" },
  ACCOUNT_LOCKED: { kind: "auth", hint: "the account is locked" },
  SUB_ACCOUNT_LOCKED: { kind: "auth", hint: "the sub-account is locked: unlock it on Gate first" },
  SUB_ACCOUNT_NOT_FOUND: {
    kind: "auth",
    hint: 'the admin key\'s main account has no such sub-account: fix "userId"',
  },
  IP_FORBIDDEN: {
    kind: "ip",
    hint: "caller IP not on the key's IP whitelist: the binding must include keyshift's egress address",
  },
};

/** "Invalid key": a key created a moment ago may not have propagated yet. */
export const INVALID_KEY = "INVALID_KEY";
