import * as z from "zod/mini";

/**
 * Binance wire shapes keyshift relies on ("API Management" of the sub-account reference, and the
 * response models of binance-connector-python's sub_account client 7.x; sources per field in
 * docs/exchanges.md, Binance). Loose objects: Binance adds fields over time; what keyshift reads
 * must be there with the documented type.
 */

/** Any error: `{code, msg}` with a negative code (rest-api.md, "Error Codes"). */
export const errorSchema = z.looseObject({ code: z.number(), msg: z.string() });

const flag = z.optional(z.boolean());

/** `POST /sapi/v1/sub-account/subAccountApi`: the only time `secretKey` is shown. */
export const createdSchema = z.looseObject({
  apiName: z.string(),
  apiKey: z.string().check(z.minLength(1)),
  secretKey: z.string().check(z.minLength(1)),
  canTrade: flag,
  canMarginLoanRepay: flag,
  canFuturesTrade: flag,
  canUniversalTransfer: flag,
  canVanillaOptions: flag,
  /** 1 unrestricted, 2 trusted IPs only, 3 third-party IP restriction. */
  status: z.number(),
  ipList: z.optional(z.array(z.string())),
});

/** One row of `GET /sapi/v1/sub-account/subAccountApi` (no IP list: see `ipRestrictionSchema`). */
export const listedKeySchema = z.looseObject({
  apiName: z.string(),
  apikey: z.string().check(z.minLength(1)),
  canTrade: z.boolean(),
  canMarginLoanRepay: z.boolean(),
  canFuturesTrade: z.boolean(),
  canUniversalTransfer: z.boolean(),
  canVanillaOptions: z.boolean(),
  /** Creation time, ms. */
  timestamp: z.number(),
});

/** The listing: `rows` since connector 7.0.0 (2026-07-30), `total` the count over every page. */
export const keyPageSchema = z.looseObject({
  total: z.number(),
  rows: z.array(listedKeySchema),
});

/** `GET /sapi/v1/sub-account/subAccountApi/ipRestriction`: `ipRestrict` is the string "true"/"false". */
export const ipRestrictionSchema = z.looseObject({
  ipRestrict: z.string(),
  ipList: z.optional(z.array(z.string())),
  apiKey: z.string(),
});

/** `GET /api/v3/account`, called with the key being checked (USER_DATA: any key that can read). */
export const accountSchema = z.looseObject({ uid: z.optional(z.number()), accountType: z.string() });

/** `DELETE /sapi/v1/sub-account/subAccountApi` answers `{}`. */
export const deletedSchema = z.record(z.string(), z.unknown());

export type ListedKey = z.infer<typeof listedKeySchema>;

export interface CodeRule {
  kind: "retryable" | "auth";
  /** What the operator should check; appended to the error message. */
  hint: string;
}

/**
 * Error codes keyshift acts on (binance-spot-api-docs `errors.md`). Every other code is a refusal
 * of the operation itself, judged by the operation, never a success.
 */
export const ERROR_CODES: Readonly<Record<number, CodeRule>> = {
  [-1000]: { kind: "retryable", hint: "unknown error on Binance's side" },
  [-1001]: { kind: "retryable", hint: "internal error (DISCONNECTED); try again" },
  [-1003]: { kind: "retryable", hint: "request weight or rate limit exceeded; retry later" },
  [-1006]: {
    kind: "retryable",
    hint: "unexpected response from Binance's message bus; execution status unknown",
  },
  [-1007]: { kind: "retryable", hint: "backend timeout; execution status unknown" },
  [-1002]: { kind: "auth", hint: "not authorized to execute this request" },
  [-1021]: {
    kind: "auth",
    hint: "timestamp outside the recvWindow: check this host's clock (NTP) or raise recvWindow",
  },
  [-1022]: { kind: "auth", hint: "signature rejected: the secret does not match the key" },
  [-2014]: { kind: "auth", hint: "API-key format invalid" },
  [-2015]: {
    kind: "auth",
    hint: "invalid API-key, IP, or permissions: the key is gone, or its IP restriction lacks keyshift's egress address, or it lacks the permission (the master key needs Spot & Margin Trading)",
  },
};
