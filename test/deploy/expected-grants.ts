/**
 * The least-privilege table: per function, per resource, exactly the actions its code path calls
 * (use case Pick<Deps> → adapter method → SDK command). Writing to its own log group is checked
 * apart. Widening any role — an action, a resource — makes test/deploy/template.test.ts fail.
 *
 * Resources are written as `label()` renders them: table/key/topic logical ids, index ARNs as
 * `<Table>/index/<name>`, secret ARNs with `<region>`/`<account>`.
 */
const ROTATIONS = "RotationsTable";
const CONSUMERS = "ConsumersTable";
const BY_PRINCIPAL = "ConsumersTable/index/by-principal";
const LEDGER = "LedgerTable";
const BY_SWEEP = "LedgerTable/index/by-sweep";
const BY_STATUS = "LedgerTable/index/by-status";
const AUDIT = "AuditTable";
const TOPIC = "AlertTopic";
const KEY = "AlertKey";
/** By name, not `Ref`: the state machine invokes OpenManualTask, so a `Ref` here would be a cycle. */
const ROTATION_STATE_MACHINE = "arn:aws:states:<region>:<account>:stateMachine:keyshift-dev-rotation";
/** Every schedule of the stack's group: what keyshift's rotation schedules are. */
export const ROTATION_SCHEDULES = "arn:aws:scheduler:<region>:<account>:schedule/keyshift-dev-rotations/*";
export const EXCHANGE_SECRETS = "arn:aws:secretsmanager:<region>:<account>:secret:keyshift/exchange/*";
export const ADMIN_SECRETS = "arn:aws:secretsmanager:<region>:<account>:secret:keyshift/admin/*";

export const EXPECTED_GRANTS: Record<string, Record<string, string[]>> = {
  BeginRotation: {
    [ROTATIONS]: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    // rotate --compromised breaks the glass on earlier keys still in the ledger (earlier-keys.ts)
    [CONSUMERS]: ["dynamodb:Query"],
    [LEDGER]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
    [EXCHANGE_SECRETS]: ["secretsmanager:ListSecretVersionIds"],
    [ADMIN_SECRETS]: ["secretsmanager:GetSecretValue"],
  },
  CreateNext: {
    [ROTATIONS]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [LEDGER]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
    [EXCHANGE_SECRETS]: [
      "secretsmanager:GetSecretValue",
      "secretsmanager:ListSecretVersionIds",
      "secretsmanager:PutSecretValue",
    ],
    [ADMIN_SECRETS]: ["secretsmanager:GetSecretValue"],
  },
  OpenManualTask: {
    [ROTATIONS]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [LEDGER]: ["dynamodb:GetItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
    [EXCHANGE_SECRETS]: ["secretsmanager:ListSecretVersionIds"],
    [ADMIN_SECRETS]: ["secretsmanager:GetSecretValue"],
    [ROTATION_STATE_MACHINE]: ["states:SendTaskSuccess"],
  },
  PromoteCurrent: {
    [ROTATIONS]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [LEDGER]: ["dynamodb:GetItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [EXCHANGE_SECRETS]: ["secretsmanager:ListSecretVersionIds", "secretsmanager:UpdateSecretVersionStage"],
  },
  WaitForConsumers: {
    [ROTATIONS]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [CONSUMERS]: ["dynamodb:Query"],
  },
  MarkStalled: {
    [ROTATIONS]: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
  },
  RevokePrevious: {
    [ROTATIONS]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [CONSUMERS]: ["dynamodb:Query"],
    [LEDGER]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
    [EXCHANGE_SECRETS]: ["secretsmanager:ListSecretVersionIds"],
    [ADMIN_SECRETS]: ["secretsmanager:GetSecretValue"],
  },
  CompleteRotation: {
    [ROTATIONS]: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [LEDGER]: ["dynamodb:GetItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
  },
  AbortRotation: {
    [ROTATIONS]: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [LEDGER]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
    [EXCHANGE_SECRETS]: ["secretsmanager:ListSecretVersionIds", "secretsmanager:UpdateSecretVersionStage"],
    [ADMIN_SECRETS]: ["secretsmanager:GetSecretValue"],
  },
  Heartbeat: {
    [BY_PRINCIPAL]: ["dynamodb:Query"],
    [CONSUMERS]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
    [ROTATIONS]: ["dynamodb:BatchGetItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
  },
  // Audits every read of an exchange key; alerts, once a day, on a reader the registry does not know.
  SecretRead: {
    [ROTATIONS]: ["dynamodb:GetItem"],
    [BY_PRINCIPAL]: ["dynamodb:Query"],
    [CONSUMERS]: ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
  },
  // The weekly hygiene audit: reads the tables, lists the exchange, reads no secret value.
  HygieneAudit: {
    // UpdateItem: the exchange request budget (src/adapters/dynamodb/request-budget.ts)
    [ROTATIONS]: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"],
    [CONSUMERS]: ["dynamodb:Query"],
    [LEDGER]: ["dynamodb:Scan"],
    [EXCHANGE_SECRETS]: ["secretsmanager:GetResourcePolicy"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
    [ADMIN_SECRETS]: ["secretsmanager:GetSecretValue"],
    // the run-time schedules: read whole (a sample, src/core/hygiene/schedule-findings.ts), never written
    [ROTATION_SCHEDULES]: ["scheduler:GetSchedule"],
    // the group listed once a run; IAM authorizes ListSchedules on no resource (STAR_RESOURCE_ACTIONS)
    "*": ["scheduler:ListSchedules"],
  },
  // The hourly misuse run: the exchange pulls (admin credential, request budget, the EXCH# sums and
  // cursors), settings and versions, the consumers' usage and acks; alerts; a secret's retired
  // keys, each account's key listing, and the sweeper's attempt on a retired key seen in use.
  MisuseHourly: {
    [ROTATIONS]: ["dynamodb:GetItem", "dynamodb:Scan", "dynamodb:UpdateItem"],
    [CONSUMERS]: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"],
    [BY_STATUS]: ["dynamodb:Query"],
    [LEDGER]: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
    [EXCHANGE_SECRETS]: ["secretsmanager:ListSecretVersionIds"],
    [ADMIN_SECRETS]: ["secretsmanager:GetSecretValue"],
  },
  RetryRevocations: {
    [BY_SWEEP]: ["dynamodb:Query"],
    [LEDGER]: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
    // Query + UpdateItem: the manual tasks' reminders; UpdateItem also the exchange request budget
    [ROTATIONS]: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"],
    [CONSUMERS]: ["dynamodb:Query"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
    [EXCHANGE_SECRETS]: ["secretsmanager:ListSecretVersionIds"],
    [ADMIN_SECRETS]: ["secretsmanager:GetSecretValue"],
  },
  // Every writing operator command (src/cli/dispatch.ts): what the CLI's operators needed before.
  OperatorApi: {
    [ROTATIONS]: [
      "dynamodb:BatchGetItem",
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ],
    [CONSUMERS]: [
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
    ],
    [BY_PRINCIPAL]: ["dynamodb:Query"],
    [LEDGER]: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:UpdateItem"],
    [AUDIT]: ["dynamodb:PutItem", "dynamodb:Query"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
    [EXCHANGE_SECRETS]: [
      "secretsmanager:DeleteResourcePolicy",
      "secretsmanager:GetResourcePolicy",
      "secretsmanager:GetSecretValue",
      "secretsmanager:ListSecretVersionIds",
      "secretsmanager:PutResourcePolicy",
      // keys provide: the key a person made, stored as AWSPENDING (a writer under the read policy's guard)
      "secretsmanager:PutSecretValue",
      "secretsmanager:UpdateSecretVersionStage",
    ],
    [ADMIN_SECRETS]: ["secretsmanager:GetSecretValue"],
    // keys provide and keys confirm-deleted resume the execution waiting on the task
    RotationStateMachine: ["states:SendTaskSuccess", "states:StartExecution"],
    // enroll creates the secret's schedule, handing Scheduler the schedules' own role only
    [ROTATION_SCHEDULES]: ["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"],
    RotationSchedulerRole: ["iam:PassRole"],
    // keys confirm-deleted: the reader function proves the deletion; this role never reads a key
    ProveDeletedLambdaFunction: ["lambda:InvokeFunction"],
  },
  // The proof behind keys confirm-deleted: one of keyshift's readers (the read policy lists its
  // role), it reads the entry and the old key's version and asks the exchange once. Writes nothing.
  ProveDeleted: {
    [LEDGER]: ["dynamodb:GetItem"],
    [EXCHANGE_SECRETS]: ["secretsmanager:GetSecretValue"],
    [ADMIN_SECRETS]: ["secretsmanager:GetSecretValue"],
  },
  // The audit archive: reads the audit table's stream (`AuditTable` here is its StreamArn, pinned in
  // test/deploy/audit-archive.test.ts), writes once to the archive, reads a taken key back.
  AuditArchive: {
    [AUDIT]: [
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ],
    "AuditArchiveBucket/trails/*": ["s3:GetObject", "s3:PutObject"],
    [TOPIC]: ["sns:Publish"],
    [KEY]: ["kms:Decrypt", "kms:GenerateDataKey"],
  },
};

/** The step functions of the workflow: of this stack's roles, only the state machine's invokes them (docs/deploy.md). */
export const STEP_FUNCTIONS = [
  "BeginRotation",
  "CreateNext",
  "OpenManualTask",
  "PromoteCurrent",
  "WaitForConsumers",
  "MarkStalled",
  "RevokePrevious",
  "CompleteRotation",
  "AbortRotation",
];

/**
 * Actions AWS offers no resource-level permission for, and so the only `Resource: "*"` grants in
 * the stack, by role: on the rotation state machine's, CloudWatch Logs vended-log delivery (needed
 * for `loggingConfig`) and X-Ray segments/sampling (granted with `tracingConfig`, used with --param
 * tracing=true); on the hygiene audit's, ListSchedules (the Service Authorization Reference lists
 * no resource type for it; the adapter's GroupName keeps the listing to the group).
 */
export const STAR_RESOURCE_GRANTS: Record<string, string[]> = {
  HygieneAuditIamRoleLambdaExecution: ["scheduler:ListSchedules"],
  RotationStateMachineRole: [
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
  ],
};
