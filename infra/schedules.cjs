"use strict";
/**
 * EventBridge delivery of every schedule: the rotation schedules (one rule per enrolled secret in
 * `rotation.config.yml`, each starting the state machine) and the revocation sweeper's tick.
 * serverless.yml includes `${file(infra/schedules.cjs):resources}` in `resources`.
 *
 * A target EventBridge cannot invoke (StartExecution throttled or denied, the sweeper's Invoke
 * failing) is retried per the target's RetryPolicy, then sent to one dead-letter queue; both the
 * failed invocation and the queue raise an alarm on the alert topic. See docs/deploy.md.
 *
 * Why the rules are generated here and not by the plugins:
 * - serverless-step-functions 3.31.2 `schedule` events emit `RetryPolicy` but no `DeadLetterConfig`
 *   (only its `eventBridge` events, which need an event pattern, take one), so the rotation rules
 *   are compiled here, with the role the plugin used to create (same logical id).
 * - osls 3.77 `schedule` events accept neither (the schema has `additionalProperties: false`). The
 *   sweeper's rule and its Lambda permission stay osls's (infra/functions.yml); its target is
 *   replaced through `resources.extensions`, which assigns `Properties` keys shallowly, so the whole
 *   `Targets` list is restated. test/deploy pins that restated target.
 *
 * CommonJS on purpose: osls `require()`s this file and the package is `"type": "module"`.
 * Types for the TypeScript side (tests) are in `schedules.d.cts`.
 */
const crypto = require("node:crypto");
const { DEFAULT_CONFIG_PATH, loadEnrollment } = require("./enrollment.cjs");

/** osls's names for the sweeper's rule and target (`<Function>EventsRuleSchedule1`, `<function>Schedule`). */
const SWEEPER_RULE_ID = "RetryRevocationsEventsRuleSchedule1";
const SWEEPER_TARGET_ID = "retryRevocationsSchedule";
const SWEEPER_FUNCTION_ID = "RetryRevocationsLambdaFunction";
/** infra/secret-reads.yml's rule: it delivers to this stack's dead-letter queue too. */
const SECRET_READ_RULE_ID = "SecretReadRule";
/** infra/hygiene.yml's weekly rule: it delivers to this stack's dead-letter queue too. */
const HYGIENE_RULE_ID = "HygieneAuditRule";
const STATE_MACHINE_ID = "RotationStateMachine";
/** The logical id serverless-step-functions gave this role, kept so a deploy does not replace it. */
const ROTATION_ROLE_ID = "RotationScheduleToStepFunctionsRole";
const DLQ_ID = "ScheduleDeadLetterQueue";
const ALERT_TOPIC = { Ref: "AlertTopic" };
const SECRET_PREFIX = "keyshift/exchange/";
/** EventBridge rule names: 1-64 characters of `.-_A-Za-z0-9`. */
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
/** SQS keeps a message at most 14 days: the longest an operator has to look at a missed start. */
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

const getAtt = (id, attribute) => ({ "Fn::GetAtt": [id, attribute] });
const hashOf = (secretId) => crypto.createHash("sha256").update(secretId).digest("hex").slice(0, 10);

/**
 * `retryPolicy` in serverless.yml (camelCase, like the plugins') as the CloudFormation `RetryPolicy`,
 * checked against EventBridge's bounds so a bad value fails `serverless package`, not the deploy.
 */
function retryPolicy(value, at) {
  const ok = (v, min, max) => Number.isInteger(v) && v >= min && v <= max;
  if (
    !value ||
    !ok(value.maximumRetryAttempts, 0, 185) ||
    !ok(value.maximumEventAgeInSeconds, 60, 86_400) ||
    Object.keys(value).length !== 2
  ) {
    throw new Error(
      `${at} must be { maximumRetryAttempts: 0-185, maximumEventAgeInSeconds: 60-86400 }, got ${JSON.stringify(value)}`,
    );
  }
  return {
    MaximumRetryAttempts: value.maximumRetryAttempts,
    MaximumEventAgeInSeconds: value.maximumEventAgeInSeconds,
  };
}

/**
 * The rule name of a secret's schedule: readable in the console and in the `RuleName` dimension of
 * its alarm, unique by the hash of the whole secret id (the readable part is cut to fit 64).
 */
function rotationRuleName(prefix, secretId) {
  const hash = hashOf(secretId);
  const slug = secretId
    .slice(secretId.startsWith(SECRET_PREFIX) ? SECRET_PREFIX.length : 0)
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const room = 64 - prefix.length - hash.length - 2;
  const name =
    room > 0 && slug ? `${prefix}-${slug.slice(0, room).replace(/-+$/, "")}-${hash}` : `${prefix}-${hash}`;
  if (!RULE_NAME.test(name))
    throw new Error(`rule name ${name} for ${secretId} is not a valid EventBridge rule name`);
  return name;
}

/** Every rotation rule of the stack: their names all start with `<prefix>-rotate-` (rotationRuleName). */
function rotationRulesArn(prefix) {
  return {
    "Fn::Join": [
      "",
      [
        "arn:",
        { Ref: "AWS::Partition" },
        ":events:",
        { Ref: "AWS::Region" },
        ":",
        { Ref: "AWS::AccountId" },
        `:rule/${prefix}-rotate-*`,
      ],
    ],
  };
}

function failedInvocationsAlarm(ruleName, description) {
  return {
    Type: "AWS::CloudWatch::Alarm",
    Properties: {
      AlarmName: `${ruleName}-failed-invocations`,
      AlarmDescription: description,
      Namespace: "AWS/Events",
      MetricName: "FailedInvocations",
      Dimensions: [{ Name: "RuleName", Value: ruleName }],
      Statistic: "Sum",
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
      AlarmActions: [ALERT_TOPIC],
    },
  };
}

/**
 * The CloudFormation fragment: `Resources` (rotation rules and their role, the dead-letter queue,
 * its policy, the alarms), `extensions` (the sweeper's target) and `Outputs`.
 *
 * @param {object} options
 * @param {string} options.service
 * @param {string} options.stage
 * @param {{ secretId: string, schedule: string, enabled: boolean }[]} options.secrets enrolled secrets
 * @param {string} options.sweeperRuleName the `name` of the sweeper's schedule event (infra/functions.yml)
 * @param {object} options.rotationRetryPolicy `{ maximumRetryAttempts, maximumEventAgeInSeconds }`
 * @param {object} options.sweeperRetryPolicy same, for the sweeper
 */
function scheduleResources(options) {
  const { service, stage, secrets, sweeperRuleName } = options;
  const prefix = `${service}-${stage}`;
  const rotationRetry = retryPolicy(options.rotationRetryPolicy, "custom.schedules.rotationRetryPolicy");
  const sweeperRetry = retryPolicy(options.sweeperRetryPolicy, "custom.schedules.sweeperRetryPolicy");
  if (typeof sweeperRuleName !== "string" || !RULE_NAME.test(sweeperRuleName))
    throw new Error(
      `custom.schedules.sweeperRuleName ${JSON.stringify(sweeperRuleName)} is not a valid rule name`,
    );
  const deadLetter = { Arn: getAtt(DLQ_ID, "Arn") };

  const resources = {};
  const ruleIds = [SWEEPER_RULE_ID, SECRET_READ_RULE_ID, HYGIENE_RULE_ID];
  for (const secret of secrets) {
    const id = `RotationSchedule${hashOf(secret.secretId)}`;
    if (resources[id]) throw new Error(`two secrets hash to the logical id ${id}: ${secret.secretId}`);
    const name = rotationRuleName(`${prefix}-rotate`, secret.secretId);
    resources[id] = {
      Type: "AWS::Events::Rule",
      Properties: {
        Name: name,
        Description: `keyshift: scheduled rotation of ${secret.secretId}`.slice(0, 512),
        ScheduleExpression: secret.schedule,
        State: secret.enabled ? "ENABLED" : "DISABLED",
        Targets: [
          {
            Id: "rotation",
            Arn: { Ref: STATE_MACHINE_ID },
            RoleArn: getAtt(ROTATION_ROLE_ID, "Arn"),
            Input: JSON.stringify({ secretId: secret.secretId, trigger: "schedule" }),
            RetryPolicy: rotationRetry,
            DeadLetterConfig: deadLetter,
          },
        ],
      },
    };
    resources[`${id}FailedInvocationsAlarm`] = failedInvocationsAlarm(
      name,
      `EventBridge could not start the scheduled rotation of ${secret.secretId} (StartExecution failed after its retries); the event is in the schedule dead-letter queue`.slice(
        0,
        1024,
      ),
    );
    ruleIds.push(id);
  }
  if (secrets.length > 0) {
    resources[ROTATION_ROLE_ID] = {
      Type: "AWS::IAM::Role",
      Properties: {
        AssumeRolePolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "events.amazonaws.com" },
              Action: "sts:AssumeRole",
              // Only this account's rotation rules may use it (cross-service confused deputy).
              // A rule cannot be named by GetAtt here (the rules refer to this role), so by name.
              Condition: {
                StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
                ArnLike: { "aws:SourceArn": rotationRulesArn(prefix) },
              },
            },
          ],
        },
        Policies: [
          {
            PolicyName: `${prefix}-rotation-schedule`,
            PolicyDocument: {
              Version: "2012-10-17",
              Statement: [
                { Effect: "Allow", Action: ["states:StartExecution"], Resource: { Ref: STATE_MACHINE_ID } },
              ],
            },
          },
        ],
      },
    };
  }

  resources.RetryRevocationsScheduleFailedInvocationsAlarm = failedInvocationsAlarm(
    sweeperRuleName,
    "EventBridge could not invoke the revocation sweeper after its retries; the tick is in the schedule dead-letter queue (the next tick retries)",
  );

  // SSE with SQS-owned keys: EventBridge writes to it without a key policy. The AWS managed key
  // alias/aws/sqs would not do: its key policy cannot grant events.amazonaws.com.
  resources[DLQ_ID] = {
    Type: "AWS::SQS::Queue",
    Properties: {
      QueueName: `${prefix}-schedule-dlq`,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: DLQ_RETENTION_SECONDS,
    },
  };
  resources.ScheduleDeadLetterQueuePolicy = {
    Type: "AWS::SQS::QueuePolicy",
    Properties: {
      Queues: [{ Ref: DLQ_ID }],
      PolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ScheduleRulesOfThisStackSendFailedEvents",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: getAtt(DLQ_ID, "Arn"),
            // Sorted: reordering rotation.config.yml must not change this policy.
            Condition: { ArnEquals: { "aws:SourceArn": [...ruleIds].sort().map((id) => getAtt(id, "Arn")) } },
          },
        ],
      },
    },
  };
  resources.ScheduleDeadLetterQueueAlarm = {
    Type: "AWS::CloudWatch::Alarm",
    Properties: {
      AlarmName: `${prefix}-schedule-dlq-not-empty`,
      AlarmDescription:
        "A scheduled rotation start or sweeper tick failed for good and waits in the schedule dead-letter queue (attributes RULE_ARN, ERROR_CODE, ERROR_MESSAGE); see docs/deploy.md",
      Namespace: "AWS/SQS",
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [{ Name: "QueueName", Value: getAtt(DLQ_ID, "QueueName") }],
      Statistic: "Maximum",
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "notBreaching",
      AlarmActions: [ALERT_TOPIC],
    },
  };

  return {
    Resources: resources,
    Outputs: {
      ScheduleDeadLetterQueueUrl: {
        Description: "Scheduled starts and sweeper ticks EventBridge could not deliver",
        Value: { Ref: DLQ_ID },
      },
    },
    extensions: {
      [SWEEPER_RULE_ID]: {
        Properties: {
          Targets: [
            {
              Id: SWEEPER_TARGET_ID,
              Arn: getAtt(SWEEPER_FUNCTION_ID, "Arn"),
              RetryPolicy: sweeperRetry,
              DeadLetterConfig: deadLetter,
            },
          ],
        },
      },
    },
  };
}

module.exports = {
  scheduleResources,
  rotationRuleName,
  /** `${file(infra/schedules.cjs):resources}`: settings from `custom.schedules`, secrets from the enrollment config. */
  resources: async ({ resolveVariable }) => {
    const [service, stage, file, settings] = await Promise.all([
      resolveVariable("self:service"),
      resolveVariable("sls:stage"),
      resolveVariable("self:custom.rotationConfig"),
      resolveVariable("self:custom.schedules"),
    ]);
    const { secrets } = loadEnrollment(typeof file === "string" ? file : DEFAULT_CONFIG_PATH);
    return scheduleResources({ service, stage, secrets, ...settings });
  },
};
