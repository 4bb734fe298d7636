import * as z from "zod/mini";

/**
 * Bybit v5 wire shapes keyshift relies on (bybit-exchange/docs, docs/v5/guide.mdx and
 * docs/v5/user/*.mdx; sources per field in docs/exchanges.md, Bybit). Loose objects: Bybit adds
 * fields over time; what keyshift reads must be there with the documented type.
 */

/** Every answer: `{retCode, retMsg, result, retExtInfo, time}`; `retCode` 0 is success. */
export const envelopeSchema = z.looseObject({
  retCode: z.number(),
  retMsg: z.string(),
  result: z.optional(z.unknown()),
  time: z.optional(z.number()),
});

const permissionsSchema = z.record(z.string(), z.array(z.string()));

/** `POST /v5/user/create-sub-api` result: the only time the secret is shown. */
export const createdSchema = z.looseObject({
  id: z.string(),
  note: z.string(),
  apiKey: z.string().check(z.minLength(1)),
  readOnly: z.number(),
  secret: z.string().check(z.minLength(1)),
  permissions: permissionsSchema,
});

/** One entry of `GET /v5/user/sub-apikeys`; `readOnly` is a boolean in the docs' example, 0/1 in SDK types. */
export const listedKeySchema = z.looseObject({
  id: z.string(),
  ips: z.array(z.string()),
  apiKey: z.string().check(z.minLength(1)),
  note: z.string(),
  /** 1 permanent, 2 expired, 3 within the validity period, 4 expires in less than 7 days. */
  status: z.number(),
  expiredAt: z.optional(z.string()),
  createdAt: z.string(),
  permissions: permissionsSchema,
  readOnly: z.union([z.boolean(), z.number()]),
  deadlineDay: z.optional(z.number()),
});

export const keyPageSchema = z.looseObject({
  result: z.array(listedKeySchema),
  nextPageCursor: z.string(),
});

/** `GET /v5/user/submembers`: `nextCursor` "0" means no more pages. */
export const subMemberPageSchema = z.looseObject({
  subMembers: z.array(z.looseObject({ uid: z.string() })),
  nextCursor: z.string(),
});

/** `GET /v5/user/query-api`, called with the key being checked. */
export const keyInfoSchema = z.looseObject({
  apiKey: z.string(),
  userID: z.number(),
  isMaster: z.boolean(),
  readOnly: z.number(),
  permissions: permissionsSchema,
  ips: z.array(z.string()),
});

/** `POST /v5/user/delete-sub-api`: "Response Parameters: None", `result: {}` in the example. */
export const deletedSchema = z.record(z.string(), z.unknown());

export type ListedKey = z.infer<typeof listedKeySchema>;

/** Key status 2 in the sub-key list: the key no longer authenticates. */
export const KEY_STATUS_EXPIRED = 2;

export interface RetCodeRule {
  kind: "retryable" | "auth" | "ip";
  /** What the operator should check; appended to the error message. */
  hint: string;
}

/**
 * retCodes with a meaning keyshift acts on (docs/v5/error.mdx "UTA", docs/v5/rate-limit). Every
 * other non-zero code is a refusal of the operation itself, never a success.
 */
export const RET_CODES: Readonly<Record<number, RetCodeRule>> = {
  10000: { kind: "retryable", hint: "Bybit server timeout" },
  10016: { kind: "retryable", hint: "Bybit server error or restart" },
  10006: { kind: "retryable", hint: "API rate limit (per UID per second); retry later" },
  10018: { kind: "retryable", hint: "IP rate limit; retry later" },
  10002: {
    kind: "auth",
    hint: "request timestamp outside the recv window: check this host's clock (NTP) or raise recvWindow",
  },
  10003: {
    kind: "auth",
    hint: "API key is invalid (removed, or from another environment: mainnet vs testnet)",
  },
  10004: { kind: "auth", hint: "signature rejected: the secret does not match the key" },
  10005: {
    kind: "auth",
    hint: "permission denied: the admin key must be the master account's read-write key with Account Transfer, Subaccount Transfer or Withdrawal",
  },
  10007: { kind: "auth", hint: "user authentication failed" },
  10008: { kind: "auth", hint: "account banned" },
  10009: { kind: "auth", hint: "service restricted for this region" },
  10010: {
    kind: "ip",
    hint: "unmatched IP: the key's IP binding does not include the address keyshift calls from; bind keyshift's egress IPs (KEYSHIFT_EGRESS_IPS) to the key on Bybit",
  },
  33004: { kind: "auth", hint: "the API key has expired (keys without an IP binding last 90 days)" },
  [-2015]: { kind: "auth", hint: "the API key has expired" },
};

/** "The subaccount specified does not belong to the parent account" (docs/v5/error.mdx). */
export const RET_SUB_NOT_OWNED = 500010;
