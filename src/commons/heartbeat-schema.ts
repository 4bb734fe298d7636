import { FINGERPRINT_PATTERN } from "../core/fingerprint";
import { secretIdSchema } from "./parse";
import * as z from "./zod";

/** POST /heartbeats: exactly these three fields (its own module: see ./schemas.ts). */
export const heartbeatBodySchema = z.strictObject({
  secretId: secretIdSchema,
  fingerprint: z
    .string({ error: "fingerprint must be a string" })
    .check(z.regex(FINGERPRINT_PATTERN, "fingerprint must be fp1_ followed by 16 lowercase hex digits")),
  instanceId: z
    .string({ error: "instanceId must be a string" })
    .check(z.regex(/^[A-Za-z0-9._:-]{1,128}$/, "instanceId must be 1-128 characters of A-Z a-z 0-9 . _ : -")),
});
