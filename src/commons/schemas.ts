import { z } from "zod";
import { InvalidInputError } from "../core/errors";
import { FINGERPRINT_PATTERN } from "../core/fingerprint";

/** Secrets Manager names: 1–512 of letters, digits and /_+=.@- */
export const secretIdSchema = z
  .string({ error: "secretId must be a string" })
  .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, "secretId must be 1-512 characters of A-Z a-z 0-9 / _ + = . @ -");

export const executionInputSchema = z
  .strictObject({
    secretId: secretIdSchema,
    trigger: z.enum(["schedule", "manual"], { error: 'trigger must be "schedule" or "manual"' }),
    mode: z.enum(["rotate", "resume"], { error: 'mode must be "rotate" or "resume"' }).default("rotate"),
    /** Suspected compromise: emergency rotation (see core/emergency.ts); needs `reason`. */
    compromised: z.boolean({ error: "compromised must be true or false" }).optional(),
    reason: z
      .string({ error: "reason must be a string" })
      .trim()
      .min(3, "reason must say why (at least 3 characters)")
      .max(500, "reason must be at most 500 characters")
      .optional(),
  })
  .refine((i) => !i.compromised || i.reason !== undefined, {
    message: 'compromised: true needs a "reason" (it is audited before the previous key is revoked)',
    path: ["reason"],
  })
  .refine((i) => !i.compromised || (i.trigger === "manual" && i.mode === "rotate"), {
    message: 'compromised: true is a manual new rotation: trigger "manual", mode "rotate"',
    path: ["compromised"],
  });

export const beginRotationEventSchema = z.object({
  input: executionInputSchema,
  executionName: z.string().min(1).max(80),
});

export const rotationRefSchema = z.object({
  secretId: secretIdSchema,
  rotationId: z.string().min(1).max(80),
  /** `$$.Execution.Name`: the lock's fencing token (see core/lock.ts). */
  execution: z.string().min(1).max(80).optional(),
});

export const checkConsumersEventSchema = rotationRefSchema.extend({ iteration: z.number().int().min(0) });

export const markStalledEventSchema = rotationRefSchema.extend({
  lagging: z
    .array(
      z.object({
        consumerId: z.string(),
        reason: z.enum(["no-live-instance", "on-other-fingerprint", "mixed-fingerprints"]),
        liveInstances: z.number(),
        fingerprints: z.array(z.string()),
      }),
    )
    .default([]),
  laggingCount: z.number().int().min(0).default(0),
  deadlineAt: z.string().optional(),
  error: z.string().max(200).optional(),
});

export const completeRotationEventSchema = rotationRefSchema.extend({
  outcome: z.enum(["revoked", "disabled", "revocation-deferred"]),
  error: z.string().optional(),
});

export const abortRotationEventSchema = rotationRefSchema.extend({ error: z.string().max(200) });

export const heartbeatBodySchema = z.strictObject({
  secretId: secretIdSchema,
  fingerprint: z
    .string({ error: "fingerprint must be a string" })
    .regex(FINGERPRINT_PATTERN, "fingerprint must be fp1_ followed by 16 lowercase hex digits"),
  instanceId: z
    .string({ error: "instanceId must be a string" })
    .regex(/^[A-Za-z0-9._:-]{1,128}$/, "instanceId must be 1-128 characters of A-Z a-z 0-9 . _ : -"),
});

/** Validates `value` against `schema`; the error lists every problem by field, never the value. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new InvalidInputError(`invalid ${what}: ${problems.join("; ")}`);
  }
  return parsed.data;
}
