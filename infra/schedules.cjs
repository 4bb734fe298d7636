"use strict";
/**
 * Every schedule of the stack in CloudFormation, independent of the number of enrolled secrets:
 * - the rotation schedules' home: an EventBridge Scheduler schedule group (`AWS::Scheduler::ScheduleGroup`)
 *   in which keyshift itself creates, changes and deletes one schedule per enrolled secret at run
 *   time (`keyshift enroll`, `keyshift apply`: src/adapters/scheduler.ts), the role those schedules
 *   start executions as, the managed policy an operator needs to manage them, and alarms on the
 *   group's aggregate metrics;
 * - how EventBridge delivers the sweeper's tick (retries, dead-letter queue, alarms:
 *   infra/schedule-delivery.cjs).
 * serverless.yml includes `${file(infra/schedules.cjs):resources}` in `resources`. It reads no
 * enrollment file: enrolling a secret needs no deploy (docs/deploy.md, "Rotation schedules").
 *
 * Why the sweeper's delivery is restated here and not by the plugins: osls 3.77 `schedule` events
 * accept neither `retryPolicy` nor `deadLetterConfig` (the schema has `additionalProperties: false`).
 * The sweeper's rule and its Lambda permission stay osls's (infra/functions.yml); its target is
 * replaced through `resources.extensions`, which assigns `Properties` keys shallowly, so the whole
 * `Targets` list is restated. test/deploy pins that restated target.
 *
 * CommonJS on purpose: osls `require()`s this file and the package is `"type": "module"`.
 * Types for the TypeScript side (tests) are in `schedules.d.cts`.
 */
const {
  ALERT_TOPIC,
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
const GROUP_ID = "RotationScheduleGroup";
const SCHEDULER_ROLE_ID = "RotationSchedulerRole";
const DLQ_ID = "ScheduleDeadLetterQueue";
/** Schedule group names: 1-64 of `0-9a-zA-Z-_.` (CreateScheduleGroup). */
const GROUP_NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;

/** `arn:<partition>:scheduler:<region>:<account>:schedule/<group>/*`: every schedule of the group. */
function groupSchedulesArn(group) {
  return {
    "Fn::Join": [
      "",
      [
        "arn:",
        { Ref: "AWS::Partition" },
        ":scheduler:",
        { Ref: "AWS::Region" },
        ":",
        { Ref: "AWS::AccountId" },
        `:schedule/${group}/*`,
      ],
    ],
  };
}

/**
 * The role every rotation schedule starts executions as: Scheduler assumes it (only for this
 * account's schedules of this group: confused deputy), starts the rotation state machine, and
 * sends a start whose retries are spent to the dead-letter queue (Scheduler uses the execution
 * role for that too: "Configuring a dead-letter queue", EventBridge Scheduler User Guide).
 */
function schedulerRole(prefix, group) {
  return {
    Type: "AWS::IAM::Role",
    Properties: {
      AssumeRolePolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "scheduler.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: {
              StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
              ArnLike: { "aws:SourceArn": groupSchedulesArn(group) },
            },
          },
        ],
      },
      Policies: [
        {
          PolicyName: `${prefix}-rotation-scheduler`,
          PolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Action: ["states:StartExecution"], Resource: { Ref: STATE_MACHINE_ID } },
              { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: getAtt(DLQ_ID, "Arn") },
            ],
          },
        },
      ],
    },
  };
}

/**
 * What managing the rotation schedules takes (`keyshift enroll`, `keyshift apply`): the five calls
 * on this group's schedules, and passing the execution role — that role only. Attach it to the
 * operators' role (stack output RotationScheduleManagerPolicyArn).
 */
function managerPolicy(group) {
  return {
    Type: "AWS::IAM::ManagedPolicy",
    Properties: {
      Description: "keyshift: create, change, read and delete the rotation schedules of this stack",
      PolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: [
              "scheduler:CreateSchedule",
              "scheduler:DeleteSchedule",
              "scheduler:GetSchedule",
              "scheduler:UpdateSchedule",
            ],
            Resource: groupSchedulesArn(group),
          },
          // ListSchedules is authorized on no resource; the adapter lists only the group.
          { Effect: "Allow", Action: ["scheduler:ListSchedules"], Resource: "*" },
          {
            Effect: "Allow",
            Action: ["iam:PassRole"],
            Resource: getAtt(SCHEDULER_ROLE_ID, "Arn"),
            Condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
          },
        ],
      },
    },
  };
}

/**
 * One alarm on an aggregate metric of the group (namespace AWS/Scheduler, dimension ScheduleGroup:
 * "Monitoring Amazon EventBridge Scheduler with Amazon CloudWatch"), whatever the number of secrets.
 */
function groupAlarm(prefix, group, metric, suffix, description) {
  return {
    Type: "AWS::CloudWatch::Alarm",
    Properties: {
      AlarmName: `${prefix}-rotation-schedules-${suffix}`,
      AlarmDescription: description,
      Namespace: "AWS/Scheduler",
      MetricName: metric,
      Dimensions: [{ Name: "ScheduleGroup", Value: group }],
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
 * The CloudFormation fragment: `Resources` (the schedule group, its role, policy and alarms, the
 * dead-letter queue, its policy, the sweeper's alarms), `extensions` (the sweeper's target) and
 * `Outputs` (what `keyshift enroll`/`apply` need: KEYSHIFT_SCHEDULE_GROUP, _SCHEDULER_ROLE_ARN,
 * _SCHEDULE_DLQ_ARN).
 *
 * @param {object} options
 * @param {string} options.service
 * @param {string} options.stage
 * @param {string} options.sweeperRuleName the `name` of the sweeper's schedule event (infra/functions.yml)
 * @param {object} options.sweeperRetryPolicy `{ maximumRetryAttempts, maximumEventAgeInSeconds }`
 */
function scheduleResources(options) {
  const { service, stage, sweeperRuleName } = options;
  const prefix = `${service}-${stage}`;
  const group = `${prefix}-rotations`;
  if (!GROUP_NAME.test(group))
    throw new Error(`schedule group name ${group} is not valid (1-64 of 0-9a-zA-Z-_.)`);
  const sweeperRetry = retryPolicy(options.sweeperRetryPolicy, "custom.schedules.sweeperRetryPolicy");
  if (typeof sweeperRuleName !== "string" || !RULE_NAME.test(sweeperRuleName))
    throw new Error(
      `custom.schedules.sweeperRuleName ${JSON.stringify(sweeperRuleName)} is not a valid rule name`,
    );

  const resources = {
    [GROUP_ID]: { Type: "AWS::Scheduler::ScheduleGroup", Properties: { Name: group } },
    [SCHEDULER_ROLE_ID]: schedulerRole(prefix, group),
    RotationScheduleManagerPolicy: managerPolicy(group),
    RotationScheduleTargetErrorsAlarm: groupAlarm(
      prefix,
      group,
      "TargetErrorCount",
      "target-errors",
      "EventBridge Scheduler could not start a scheduled rotation (StartExecution failed; it retries for an hour, then the start goes to the schedule dead-letter queue); see docs/deploy.md",
    ),
    RotationScheduleDeadLetterFailuresAlarm: groupAlarm(
      prefix,
      group,
      "InvocationsFailedToBeSentToDeadLetterCount",
      "dead-letter-failures",
      "EventBridge Scheduler dropped a scheduled rotation it could neither start nor put in the dead-letter queue: check the scheduler role's sqs:SendMessage and run `keyshift hygiene`",
    ),
    RetryRevocationsScheduleFailedInvocationsAlarm: failedInvocationsAlarm(
      sweeperRuleName,
      "EventBridge could not invoke the revocation sweeper after its retries; the tick is in the schedule dead-letter queue (the next tick retries)",
    ),
    ...deadLetterResources(prefix, DELIVERING_RULE_IDS),
  };
  return {
    Resources: resources,
    Outputs: {
      ScheduleDeadLetterQueueUrl: {
        Description: "Scheduled starts and sweeper ticks EventBridge could not deliver",
        Value: DEAD_LETTER_QUEUE_URL,
      },
      ScheduleDeadLetterQueueArn: {
        Description: "KEYSHIFT_SCHEDULE_DLQ_ARN: where a rotation schedule's failed start goes",
        Value: getAtt(DLQ_ID, "Arn"),
      },
      RotationScheduleGroupName: {
        Description: "KEYSHIFT_SCHEDULE_GROUP: the EventBridge Scheduler group of the rotation schedules",
        Value: { Ref: GROUP_ID },
      },
      RotationSchedulerRoleArn: {
        Description: "KEYSHIFT_SCHEDULER_ROLE_ARN: the role the rotation schedules start executions as",
        Value: getAtt(SCHEDULER_ROLE_ID, "Arn"),
      },
      RotationScheduleManagerPolicyArn: {
        Description: "Attach to the operators' role: manage the rotation schedules (keyshift enroll, apply)",
        Value: { Ref: "RotationScheduleManagerPolicy" },
      },
    },
    extensions: sweeperTargetExtension(sweeperRetry),
  };
}

module.exports = {
  scheduleResources,
  /** `${file(infra/schedules.cjs):resources}`: settings from `custom.schedules`; no enrollment file is read. */
  resources: async ({ resolveVariable }) => {
    const [service, stage, settings] = await Promise.all([
      resolveVariable("self:service"),
      resolveVariable("sls:stage"),
      resolveVariable("self:custom.schedules"),
    ]);
    return scheduleResources({ service, stage, ...settings });
  },
};
