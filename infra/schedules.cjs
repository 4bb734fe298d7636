"use strict";
/**
 * Every schedule of the stack in CloudFormation: the rotation schedules (one rule per enrolled
 * secret in `rotation.config.yml`, each starting the state machine, with their role and alarms),
 * and how EventBridge delivers those and the revocation sweeper's tick (retries, dead-letter queue,
 * alarms: infra/schedule-delivery.cjs). serverless.yml includes `${file(infra/schedules.cjs):resources}`
 * in `resources`. The config is checked by the rules of src/core/enrollment/ (infra/enrollment.cjs).
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
const { DEFAULT_CONFIG_PATH, SECRET_PREFIX, loadEnrollment } = require("./enrollment.cjs");
const {
  DEAD_LETTER,
  DEAD_LETTER_QUEUE_URL,
  DELIVERING_RULE_IDS,
  RULE_NAME,
  deadLetterResources,
  failedInvocationsAlarm,
  getAtt,
  retryPolicy,
  sweeperTargetExtension,
} = require("./schedule-delivery.cjs");

const STATE_MACHINE_ID = "RotationStateMachine";
/** The logical id serverless-step-functions gave this role, kept so a deploy does not replace it. */
const ROTATION_ROLE_ID = "RotationScheduleToStepFunctionsRole";

const hashOf = (secretId) => crypto.createHash("sha256").update(secretId).digest("hex").slice(0, 10);

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

/** One secret's rotation rule: starts the state machine with the secret's id, retried, then dead-lettered. */
function rotationRule(secret, name, retry) {
  return {
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
          RetryPolicy: retry,
          DeadLetterConfig: DEAD_LETTER,
        },
      ],
    },
  };
}

/** The rule and its failed-invocations alarm for every enrolled secret, by logical id. */
function rotationRules(prefix, secrets, retry) {
  const resources = {};
  for (const secret of secrets) {
    const id = `RotationSchedule${hashOf(secret.secretId)}`;
    if (resources[id]) throw new Error(`two secrets hash to the logical id ${id}: ${secret.secretId}`);
    const name = rotationRuleName(`${prefix}-rotate`, secret.secretId);
    resources[id] = rotationRule(secret, name, retry);
    resources[`${id}FailedInvocationsAlarm`] = failedInvocationsAlarm(
      name,
      `EventBridge could not start the scheduled rotation of ${secret.secretId} (StartExecution failed after its retries); the event is in the schedule dead-letter queue`.slice(
        0,
        1024,
      ),
    );
  }
  return resources;
}

/** The role the rotation rules start executions with (the logical id serverless-step-functions gave it). */
function rotationScheduleRole(prefix) {
  return {
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

  const rotation = rotationRules(prefix, secrets, rotationRetry);
  const rotationRuleIds = Object.keys(rotation).filter((id) => rotation[id].Type === "AWS::Events::Rule");
  const resources = {
    ...rotation,
    ...(secrets.length > 0 ? { [ROTATION_ROLE_ID]: rotationScheduleRole(prefix) } : {}),
    RetryRevocationsScheduleFailedInvocationsAlarm: failedInvocationsAlarm(
      sweeperRuleName,
      "EventBridge could not invoke the revocation sweeper after its retries; the tick is in the schedule dead-letter queue (the next tick retries)",
    ),
    ...deadLetterResources(prefix, [...DELIVERING_RULE_IDS, ...rotationRuleIds]),
  };
  return {
    Resources: resources,
    Outputs: {
      ScheduleDeadLetterQueueUrl: {
        Description: "Scheduled starts and sweeper ticks EventBridge could not deliver",
        Value: DEAD_LETTER_QUEUE_URL,
      },
    },
    extensions: sweeperTargetExtension(sweeperRetry),
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
