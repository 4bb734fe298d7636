import { z } from "zod";
import type { SecretRead } from "../core/use-cases/secret-read";
import { parseOrThrow } from "./schemas";

/**
 * The `AWS API Call via CloudTrail` event EventBridge delivers for a Secrets Manager
 * `GetSecretValue` (the rule in infra/secret-reads.yml). Only the fields keyshift reads are
 * checked; CloudTrail adds fields over time and those pass through.
 */
const userIdentitySchema = z.object({
  type: z.string(),
  arn: z.string().optional(),
  principalId: z.string().optional(),
  accountId: z.string().optional(),
  invokedBy: z.string().optional(),
  sessionContext: z
    .object({
      sessionIssuer: z.object({ type: z.string().optional(), arn: z.string().optional() }).optional(),
    })
    .optional(),
});

export const secretReadEventSchema = z.object({
  "detail-type": z.literal("AWS API Call via CloudTrail"),
  source: z.literal("aws.secretsmanager"),
  detail: z.object({
    eventSource: z.literal("secretsmanager.amazonaws.com"),
    eventName: z.literal("GetSecretValue"),
    eventTime: z.string().min(1),
    eventID: z.string().min(1),
    userIdentity: userIdentitySchema,
    // CloudTrail records a call refused before its parameters were read with null parameters.
    requestParameters: z.object({ secretId: z.string().min(1) }).nullable(),
    errorCode: z.string().optional(),
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
