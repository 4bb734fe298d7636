import type { SecretRead } from "../core/consumers/secret-read";
import { parseOrThrow } from "./schemas";
import * as z from "./zod";

/**
 * The `AWS API Call via CloudTrail` event EventBridge delivers for a Secrets Manager
 * `GetSecretValue` (the rule in infra/secret-reads.yml). Only the fields keyshift reads are
 * checked; CloudTrail adds fields over time and those pass through.
 */
const userIdentitySchema = z.object({
  type: z.string(),
  arn: z.optional(z.string()),
  principalId: z.optional(z.string()),
  accountId: z.optional(z.string()),
  invokedBy: z.optional(z.string()),
  sessionContext: z.optional(
    z.object({
      sessionIssuer: z.optional(z.object({ type: z.optional(z.string()), arn: z.optional(z.string()) })),
    }),
  ),
});

export const secretReadEventSchema = z.object({
  "detail-type": z.literal("AWS API Call via CloudTrail"),
  source: z.literal("aws.secretsmanager"),
  detail: z.object({
    eventSource: z.literal("secretsmanager.amazonaws.com"),
    eventName: z.literal("GetSecretValue"),
    eventTime: z.string().check(z.minLength(1)),
    eventID: z.string().check(z.minLength(1)),
    userIdentity: userIdentitySchema,
    // CloudTrail records a call refused before its parameters were read with null parameters.
    requestParameters: z.nullable(z.object({ secretId: z.string().check(z.minLength(1)) })),
    errorCode: z.optional(z.string()),
  }),
});

export type SecretReadEvent = z.infer<typeof secretReadEventSchema>;

/** A refused read: CloudTrail's `errorCode` for an AccessDeniedException. */
const DENIED = new Set(["AccessDenied", "AccessDeniedException"]);

/**
 * The read the event records, or why it is not one: a call that failed for another reason
 * (no such secret or version, throttled) returned no value and was not refused by the policy.
 */
export function toSecretRead(raw: unknown): SecretRead | { ignored: string } {
  const event = parseOrThrow(secretReadEventSchema, raw, "GetSecretValue CloudTrail event");
  const { detail } = event;
  if (detail.errorCode && !DENIED.has(detail.errorCode))
    return { ignored: `failed call (${detail.errorCode})` };
  if (!detail.requestParameters) return { ignored: "no secretId recorded" };
  const identity = detail.userIdentity;
  // The role behind a session is the principal the registry and the read policy name.
  const principal =
    identity.sessionContext?.sessionIssuer?.arn ??
    identity.arn ??
    identity.invokedBy ??
    `${identity.type}:${identity.accountId ?? "?"}:${identity.principalId ?? "?"}`;
  return {
    secretRef: detail.requestParameters.secretId,
    principalArn: principal,
    callerArn: identity.arn ?? principal,
    at: detail.eventTime,
    eventId: detail.eventID,
    denied: detail.errorCode !== undefined,
  };
}
