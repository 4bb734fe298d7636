import * as z from "./zod";

const positiveInt = z.coerce.number().check(z.int(), z.positive());
const atLeast = (n: number) => z.string().check(z.minLength(n));

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]+$/;

/** A comma-separated list, each item checked; empty items (a trailing comma) are dropped. */
const commaList = (valid: RegExp, what: string) =>
  z.pipe(
    z.string(),
    z.transform((raw: string, ctx) => {
      const items = raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
      for (const item of items) {
        if (!valid.test(item)) {
          ctx.issues.push({ code: "custom", input: raw, message: `${item.slice(0, 200)} is not ${what}` });
        }
      }
      return items;
    }),
  );

/**
 * keyshift's own roles that read exchange key values, comma-separated: CreateNext's role (the stack
 * output KeyshiftReaderRoleArns). They stay readers in every secret's read policy. Needed by what
 * writes read policies (enroll, register-consumer) and by the secret-read function; those fail
 * naming this variable when it is unset, the rest of keyshift does not need it.
 */
const readerRoleArns = commaList(ROLE_ARN, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");

/**
 * keyshift's roles that write a secret's resource policy besides its readers, comma-separated: the
 * operator API's role, or the operators' roles that run `enroll` and `register-consumer`. With the
 * readers (CreateNext, the one writer of values) they are the only principals the read policy's
 * guard lets change the policy, the value or the secret (src/core/read-policy/policy.ts). The same
 * list must reach every place that builds the policy (the CLI and the hygiene audit), or each
 * reports the other's policy as drift.
 */
const writerRoleArns = commaList(ROLE_ARN, "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)");

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * keyshift's egress IPs, comma-separated: the stack output KeyshiftEgressIps, set on the functions
 * that call exchanges when the stack is deployed with `--param egress=...` (infra/egress.cjs).
 * Absent without a fixed egress.
 */
const egressIps = commaList(IPV4, "an IPv4 address");

const schema = z.object({
  AWS_REGION: atLeast(1),
  KEYSHIFT_TABLE_CONSUMERS: atLeast(3),
  KEYSHIFT_TABLE_ROTATIONS: atLeast(3),
  KEYSHIFT_TABLE_LEDGER: atLeast(3),
  KEYSHIFT_TABLE_AUDIT: atLeast(3),
  KEYSHIFT_ALERT_TOPIC_ARN: z.string().check(z.startsWith("arn:")),
  KEYSHIFT_ADMIN_SECRET_PREFIX: atLeast(1),
  KEYSHIFT_REVOCATION_MAX_ATTEMPTS: positiveInt,
  KEYSHIFT_REVOCATION_BASE_SECONDS: positiveInt,
  KEYSHIFT_REVOCATION_CAP_SECONDS: positiveInt,
  KEYSHIFT_EXCHANGE_TIMEOUT_MS: positiveInt,
  KEYSHIFT_READER_ROLE_ARNS: z.optional(readerRoleArns),
  KEYSHIFT_POLICY_WRITER_ROLE_ARNS: z.optional(writerRoleArns),
  KEYSHIFT_EGRESS_IPS: z.optional(egressIps),
  /** How long a person has to answer a manual task (issue 17); default three days. */
  KEYSHIFT_MANUAL_TASK_SECONDS: z.optional(positiveInt),
  // The prove-deleted function (its name): the operator API asks it to prove a manually deleted key
  // gone, since the operator API may not read key values. The operator API requires it; the CLI
  // proves in its own process and does not read it.
  KEYSHIFT_PROVE_DELETED_FUNCTION: z.optional(atLeast(1)),
  // The audit archive's bucket (stack output KeyshiftAuditArchiveBucket): the archive function and
  // `keyshift audit verify` need it; the rest of keyshift does not.
  KEYSHIFT_AUDIT_ARCHIVE_BUCKET: z.optional(atLeast(3)),
  // Set only by the local stack; absent on AWS, where the SDK's regional endpoints apply.
  KEYSHIFT_ENDPOINT_DYNAMODB: z.optional(z.url()),
  KEYSHIFT_ENDPOINT_SECRETS_MANAGER: z.optional(z.url()),
  KEYSHIFT_ENDPOINT_SNS: z.optional(z.url()),
  KEYSHIFT_ENDPOINT_STS: z.optional(z.url()),
  KEYSHIFT_ENDPOINT_STEPFUNCTIONS: z.optional(z.url()),
  KEYSHIFT_ENDPOINT_SCHEDULER: z.optional(z.url()),
  KEYSHIFT_ENDPOINT_S3: z.optional(z.url()),
  KEYSHIFT_ENDPOINT_LAMBDA: z.optional(z.url()),
});

export type Config = z.infer<typeof schema>;

/** The heartbeat's share of the environment: the only clients it builds are DynamoDB and (lazily) SNS. */
const heartbeatSchema = z.pick(schema, {
  AWS_REGION: true,
  KEYSHIFT_TABLE_CONSUMERS: true,
  KEYSHIFT_TABLE_ROTATIONS: true,
  KEYSHIFT_TABLE_AUDIT: true,
  KEYSHIFT_ALERT_TOPIC_ARN: true,
  KEYSHIFT_ENDPOINT_DYNAMODB: true,
  KEYSHIFT_ENDPOINT_SNS: true,
});

export type HeartbeatConfig = z.infer<typeof heartbeatSchema>;

/**
 * Parses the environment once, at cold start. A missing or malformed variable throws with every
 * problem named — there are no silent defaults.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseEnv(schema, env);
}

/** The same, for the heartbeat: it fails at cold start only for what it uses. */
export function loadHeartbeatConfig(env: NodeJS.ProcessEnv = process.env): HeartbeatConfig {
  return parseEnv(heartbeatSchema, env);
}

function parseEnv<S extends z.ZodMiniType>(s: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = s.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`keyshift configuration is invalid: ${problems}`);
  }
  return parsed.data;
}
