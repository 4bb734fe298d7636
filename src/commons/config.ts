import { z } from "zod";

const positiveInt = z.coerce.number().int().positive();

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]+$/;

/**
 * keyshift's own roles that read exchange key values, comma-separated: CreateNext's role (the stack
 * output KeyshiftReaderRoleArns). They stay readers in every secret's read policy. Needed by what
 * writes read policies (enroll, register-consumer) and by the secret-read function; those fail
 * naming this variable when it is unset, the rest of keyshift does not need it.
 */
const readerRoleArns = z
  .string()
  .transform((raw) =>
    raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  )
  .check((ctx) => {
    for (const arn of ctx.value) {
      if (!ROLE_ARN.test(arn)) {
        ctx.issues.push({
          code: "custom",
          input: ctx.value,
          message: `${arn.slice(0, 200)} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`,
        });
      }
    }
  });

const schema = z.object({
  AWS_REGION: z.string().min(1),
  KEYSHIFT_TABLE_CONSUMERS: z.string().min(3),
  KEYSHIFT_TABLE_ROTATIONS: z.string().min(3),
  KEYSHIFT_TABLE_LEDGER: z.string().min(3),
  KEYSHIFT_TABLE_AUDIT: z.string().min(3),
  KEYSHIFT_ALERT_TOPIC_ARN: z.string().startsWith("arn:"),
  KEYSHIFT_ADMIN_SECRET_PREFIX: z.string().min(1),
  KEYSHIFT_REVOCATION_MAX_ATTEMPTS: positiveInt,
  KEYSHIFT_REVOCATION_BASE_SECONDS: positiveInt,
  KEYSHIFT_REVOCATION_CAP_SECONDS: positiveInt,
  KEYSHIFT_EXCHANGE_TIMEOUT_MS: positiveInt,
  KEYSHIFT_READER_ROLE_ARNS: readerRoleArns.optional(),
  // Set only by the local stack; absent on AWS, where the SDK's regional endpoints apply.
  KEYSHIFT_ENDPOINT_DYNAMODB: z.url().optional(),
  KEYSHIFT_ENDPOINT_SECRETS_MANAGER: z.url().optional(),
  KEYSHIFT_ENDPOINT_SNS: z.url().optional(),
});

export type Config = z.infer<typeof schema>;

/**
 * Parses the environment once, at cold start. A missing or malformed variable throws with every
 * problem named — there are no silent defaults.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`keyshift configuration is invalid: ${problems}`);
  }
  return parsed.data;
}
