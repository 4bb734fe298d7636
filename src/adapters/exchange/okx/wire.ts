import * as z from "zod/mini";

/**
 * OKX v5 wire shapes keyshift relies on (v5 reference, "Sub-account" REST API and "Trading
 * Account → Get account configuration"; sources per field in docs/exchanges.md, OKX). Loose
 * objects: OKX adds fields over time; what keyshift reads must be there with the documented type.
 */

/** Every answer: `{code, msg, data}`; `code` "0" is success, every other code an error. */
export const envelopeSchema = z.looseObject({
  code: z.string(),
  msg: z.string(),
  data: z.optional(z.unknown()),
});

/** `POST /api/v5/users/subaccount/apikey`, `data[0]`: the only time the secret key is shown. */
export const createdSchema = z.looseObject({
  subAcct: z.string(),
  label: z.string(),
  apiKey: z.string().check(z.minLength(1)),
  secretKey: z.string().check(z.minLength(1)),
  perm: z.string(),
  ip: z.optional(z.string()),
  ts: z.string(),
});

/** One entry of `GET /api/v5/users/subaccount/apikey`. */
export const listedKeySchema = z.looseObject({
  label: z.string(),
  apiKey: z.string().check(z.minLength(1)),
  /** `read_only`, `trade`, comma-separated (`"read_only,trade"`). */
  perm: z.string(),
  /** Bound IPs, comma-separated; "" when unbound. */
  ip: z.string(),
  /** Creation time, Unix ms as a string. */
  ts: z.string(),
});

export const keyListSchema = z.array(listedKeySchema);

/** `GET /api/v5/account/config`, `data[0]`, called with the key being checked. */
export const accountConfigSchema = z.looseObject({
  uid: z.string(),
  mainUid: z.string(),
  perm: z.optional(z.string()),
});

/** `POST /api/v5/users/subaccount/delete-apikey`, `data[0]`: `{subAcct}`. */
export const deletedSchema = z.looseObject({ subAcct: z.string() });

export type ListedKey = z.infer<typeof listedKeySchema>;

export interface CodeRule {
  kind: "retryable" | "auth" | "ip";
  /** What the operator should check; appended to the error message. */
  hint: string;
}

/**
 * Codes with a meaning keyshift acts on (v5 reference, "Error Code → REST API"). Every other
 * non-zero code is a refusal of the operation itself, never a success.
 */
export const CODES: Readonly<Record<string, CodeRule>> = {
  "50001": { kind: "retryable", hint: "OKX service temporarily unavailable" },
  "50004": {
    kind: "retryable",
    hint: "OKX endpoint request timeout (the request may or may not have taken effect)",
  },
  "50005": { kind: "retryable", hint: "OKX API is offline or unavailable" },
  "50011": { kind: "retryable", hint: "rate limit reached; retry later" },
  "50013": { kind: "retryable", hint: "OKX system is busy" },
  "50026": { kind: "retryable", hint: "OKX system error" },
  "50030": { kind: "auth", hint: "no permission to use this API" },
  "50035": {
    kind: "auth",
    hint: "this endpoint requires an IP-bound API key: bind the master key to keyshift's egress IPs",
  },
  "50100": { kind: "auth", hint: "API key frozen: contact OKX support" },
  "50101": {
    kind: "auth",
    hint: 'API key does not match the environment: a demo key needs "demo": true, a live key must not have it',
  },
  "50102": { kind: "auth", hint: "timestamp request expired: check this host's clock (NTP)" },
  "50103": { kind: "auth", hint: "OK-ACCESS-KEY header missing" },
  "50104": { kind: "auth", hint: "OK-ACCESS-PASSPHRASE header missing" },
  "50105": { kind: "auth", hint: "passphrase incorrect for this key" },
  "50106": { kind: "auth", hint: "OK-ACCESS-SIGN header missing" },
  "50107": { kind: "auth", hint: "OK-ACCESS-TIMESTAMP header missing" },
  "50110": {
    kind: "ip",
    hint: "caller IP not on the key's IP whitelist: the binding must include keyshift's egress address",
  },
  "50111": { kind: "auth", hint: "invalid OK-ACCESS-KEY (removed, or from the other environment)" },
  "50112": { kind: "auth", hint: "invalid OK-ACCESS-TIMESTAMP" },
  "50113": { kind: "auth", hint: "signature rejected: the secret key does not match the key" },
  "50114": { kind: "auth", hint: "invalid authorization" },
  "59500": { kind: "auth", hint: "only the master account's API key may manage sub-account keys" },
  "59604": { kind: "auth", hint: "only the master account's API key may access this API" },
};

/** "Only 50 APIKeys can be created per account" / "Number of API keys exceeds the limit". */
export const KEY_LIMIT_CODES: readonly string[] = ["59501", "59602"];
/** "APIKey does not exist" / "This API key does not exist in your sub-account". */
export const KEY_NOT_FOUND_CODES: readonly string[] = ["59506", "59605"];
/** "Sub-account does not exist" (including one of another master). */
export const SUB_ACCOUNT_UNKNOWN = "59510";
/** "Invalid OK-ACCESS-KEY": a key created a moment ago may not have propagated yet. */
export const INVALID_KEY = "50111";
