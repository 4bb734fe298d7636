/**
 * The read policy of an enrolled secret, built from the registry (pure; no I/O).
 *
 * Two statements, both explicit Denies to every principal except those named by `aws:PrincipalArn`:
 * 1. reading the value, except a registered consumer's role or one of keyshift's own readers. An
 *    explicit Deny in the secret's resource policy overrides any Allow in any identity policy of the
 *    same or another account, so "who may read" becomes exactly "who the gate waits for"
 *    (docs/deploy.md, "Read policy");
 * 2. the guard: removing or replacing this policy, or changing the secret's value or settings,
 *    except keyshift's own writers. Without it a principal whose identity policy grants
 *    DeleteResourcePolicy could remove statement 1 and then read.
 *
 * Why `aws:PrincipalArn` and not `aws:userid`: for a role session it is the role's ARN (path
 * included), the same principal the registry holds, readable, and known without calling IAM;
 * `aws:userid` is `ROLE-ID:session`, whose role id must be looked up (iam:GetRole) in every
 * consumer's account. The cost: a role deleted and re-created under the same name matches again.
 */
import { createHash } from "node:crypto";
import { ConfigurationError, ReadPolicyTooLargeError } from "../errors";
import { principalKey } from "../principal";

/** The statement keyshift owns in the policy; drift detection finds it by this id. */
export const READ_POLICY_SID = "KeyshiftRegisteredReadersOnly";

/** The guard statement (statement 2); drift detection finds it by this id. */
export const GUARD_SID = "KeyshiftWritersOnly";

/**
 * What only keyshift's writers may do to an enrolled secret: its policy (so the read Deny cannot
 * be removed or replaced), its value (a planted AWSCURRENT would be a key no consumer reports and
 * the exchange does not know), and its settings (UpdateSecret also writes a value, and changes the
 * KMS key). Label moves (UpdateSecretVersionStage) stay with the identity policies that grant them.
 */
export const GUARDED_ACTIONS: readonly string[] = [
  "secretsmanager:DeleteResourcePolicy",
  "secretsmanager:PutResourcePolicy",
  "secretsmanager:PutSecretValue",
  "secretsmanager:UpdateSecret",
];

/**
 * Only `GetSecretValue` is denied: it is the one action that returns the key (`BatchGetSecretValue`
 * needs it for every secret it returns). `DescribeSecret` and `ListSecretVersionIds` return
 * metadata only (version ids, labels, dates, tags), which operators' tooling and keyshift's own
 * label moves need; denying them would hide nothing a reader could use against the exchange.
 */
export const DENIED_READ_ACTIONS: readonly string[] = ["secretsmanager:GetSecretValue"];

/** Secrets Manager's limit on a resource policy document, in characters. */
export const MAX_RESOURCE_POLICY_CHARS = 20_480;

/** The condition operator and key every exception is written with. */
export const READER_CONDITION = { operator: "ArnNotLike", key: "aws:PrincipalArn" } as const;

export interface ReadPolicyReaders {
  secretId: string;
  /** Registered consumers' principals (normalized role or user ARNs, as the registry stores them). */
  consumers: readonly string[];
  /** keyshift's own roles that read exchange key values (CreateNext's role). */
  keyshift: readonly string[];
  /**
   * keyshift's own roles that write the secret or its policy besides the readers (the operator
   * API's role, or the operators' roles that run enroll and register-consumer). CreateNext, the one
   * writer of values, is a reader already; every reader in `keyshift` is also let through the guard.
   */
  writers?: readonly string[];
}

export interface ReadPolicy {
  /** The document as put: minified JSON, readers sorted, so equal registries give equal bytes. */
  document: string;
  /** `sha256:<hex>` of the document: what the audit records instead of the JSON. */
  digest: string;
  /** Every principal allowed to read (normalized, sorted, unique). */
  readers: string[];
  /** The `aws:PrincipalArn` patterns of the exception list. */
  patterns: string[];
  /** The principals let through the guard (keyshift's readers and writers), and their patterns. */
  writers: string[];
  writerPatterns: string[];
}

/**
 * The `ArnNotLike` patterns that let one principal through. The registry stores role ARNs without
 * their path (`principalKey`), while `aws:PrincipalArn` carries it, so a role gets two patterns:
 * `role/NAME` and `role/*\/NAME`. Role names are unique in an account whatever the path, and IAM
 * names cannot hold `*` or `?`, so neither pattern can match another role.
 */
export function readerPatterns(principal: string): string[] {
  const key = principalKey(principal);
  const slash = key.indexOf("/");
  return [key, `${key.slice(0, slash)}/*${key.slice(slash)}`];
}

export function policyDigest(document: string): string {
  return `sha256:${createHash("sha256").update(document, "utf8").digest("hex")}`;
}

/**
 * The read policy for these readers. Throws `ConfigurationError` with no keyshift reader (the next
 * CreateNext would be denied the current key) and `ReadPolicyTooLargeError` past the size limit.
 */
export function buildReadPolicy(readers: ReadPolicyReaders): ReadPolicy {
  if (readers.keyshift.length === 0) {
    throw new ConfigurationError(
      `no keyshift reader role is configured, so the read policy of ${readers.secretId} would deny ` +
        "keyshift's own CreateNext: set KEYSHIFT_READER_ROLE_ARNS to the stack output KeyshiftReaderRoleArns",
    );
  }
  const all = [...new Set([...readers.consumers, ...readers.keyshift].map((p) => principalKey(p)))].sort();
  const patterns = all.flatMap(readerPatterns);
  const writers = [
    ...new Set([...readers.keyshift, ...(readers.writers ?? [])].map((p) => principalKey(p))),
  ].sort();
  const writerPatterns = writers.flatMap(readerPatterns);
  const document = JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: READ_POLICY_SID,
        Effect: "Deny",
        Principal: "*",
        Action: [...DENIED_READ_ACTIONS],
        Resource: "*",
        Condition: { [READER_CONDITION.operator]: { [READER_CONDITION.key]: patterns } },
      },
      {
        Sid: GUARD_SID,
        Effect: "Deny",
        Principal: "*",
        Action: [...GUARDED_ACTIONS],
        Resource: "*",
        Condition: { [READER_CONDITION.operator]: { [READER_CONDITION.key]: writerPatterns } },
      },
    ],
  });
  if (document.length > MAX_RESOURCE_POLICY_CHARS) {
    const perReader = Math.ceil((document.length - 200) / Math.max(1, all.length));
    throw new ReadPolicyTooLargeError(
      `the read policy of ${readers.secretId} would be ${document.length} characters for ${all.length} ` +
        `readers, over Secrets Manager's ${MAX_RESOURCE_POLICY_CHARS} (about ${perReader} per reader): ` +
        "remove consumers that no longer read it, or let the instances of one service share one role",
    );
  }
  return { document, digest: policyDigest(document), readers: all, patterns, writers, writerPatterns };
}
