import { parseOrThrow, secretIdSchema } from "./parse";
import * as z from "./zod";

/**
 * The workflow's inputs, one schema per step. The heartbeat's body has its own module
 * (./heartbeat-schema.ts), so that its cold start builds none of these.
 */
export { parseOrThrow, secretIdSchema };

/** 1-80 characters: an execution name (and so a rotation id). */
const name80 = () => z.string().check(z.minLength(1), z.maxLength(80));

export const executionInputSchema = z
  .strictObject({
    secretId: secretIdSchema,
    trigger: z.enum(["schedule", "manual"], { error: 'trigger must be "schedule" or "manual"' }),
    mode: z._default(z.enum(["rotate", "resume"], { error: 'mode must be "rotate" or "resume"' }), "rotate"),
    /** Suspected compromise: emergency rotation (see core/emergency.ts); needs `reason`. */
    compromised: z.optional(z.boolean({ error: "compromised must be true or false" })),
    reason: z.optional(
      z
        .string({ error: "reason must be a string" })
        .check(
          z.trim(),
          z.minLength(3, "reason must say why (at least 3 characters)"),
          z.maxLength(500, "reason must be at most 500 characters"),
        ),
    ),
  })
  .check(
    z.refine((i) => !i.compromised || i.reason !== undefined, {
      error: 'compromised: true needs a "reason" (it is audited before the previous key is revoked)',
      path: ["reason"],
    }),
    z.refine((i) => !i.compromised || (i.trigger === "manual" && i.mode === "rotate"), {
      error: 'compromised: true is a manual new rotation: trigger "manual", mode "rotate"',
      path: ["compromised"],
    }),
  );

export const beginRotationEventSchema = z.object({
  input: executionInputSchema,
  executionName: name80(),
});

export const rotationRefSchema = z.object({
  secretId: secretIdSchema,
  rotationId: name80(),
  /** `$$.Execution.Name`: the lock's fencing token (see core/lock.ts). */
  execution: z.optional(name80()),
});

/** OpenManualTask's payload: the state's task token is opaque (SendTaskSuccess takes up to 2,048 characters). */
export const openManualTaskEventSchema = z.extend(rotationRefSchema, {
  kind: z.enum(["create-key", "delete-key"]),
  taskToken: z.string().check(z.minLength(1), z.maxLength(2048)),
  timeoutSeconds: z.int().check(z.minimum(1)),
});

/**
 * ProveDeleted's payload (the operator API's Invoke): a ledger entry id `<account>#<keyId>`, as
 * `keys confirm-deleted` accepts it, and nothing else (never a key or its value).
 */
export const proveDeletedEventSchema = z.strictObject({
  entryId: z
    .string()
    .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}#[\x21-\x7e]{1,256}$/, "entryId is <account>#<keyId>")),
});

export const checkConsumersEventSchema = z.extend(rotationRefSchema, {
  iteration: z.int().check(z.minimum(0)),
});

export const markStalledEventSchema = z.extend(rotationRefSchema, {
  lagging: z._default(
    z.array(
      z.object({
        consumerId: z.string(),
        reason: z.enum(["no-live-instance", "on-other-fingerprint", "mixed-fingerprints"]),
        liveInstances: z.number(),
        fingerprints: z.array(z.string()),
      }),
    ),
    [],
  ),
  laggingCount: z._default(z.int().check(z.minimum(0)), 0),
  deadlineAt: z.optional(z.string()),
  error: z.optional(z.string().check(z.maxLength(200))),
});

export const completeRotationEventSchema = z.extend(rotationRefSchema, {
  outcome: z.enum(["revoked", "disabled", "revocation-deferred"]),
  error: z.optional(z.string()),
});

export const abortRotationEventSchema = z.extend(rotationRefSchema, {
  error: z.string().check(z.maxLength(200)),
});
