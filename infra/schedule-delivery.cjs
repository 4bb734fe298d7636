"use strict";
/**
 * How EventBridge delivers every schedule of the stack (the rotation rules of infra/schedules.cjs,
 * the revocation sweeper's tick, the secret-read and hygiene rules): a target EventBridge cannot
 * invoke (StartExecution throttled or denied, the sweeper's Invoke failing) is retried per the
 * target's RetryPolicy, then sent to one dead-letter queue; both the failed invocation and a message
 * in the queue raise an alarm on the alert topic. See docs/deploy.md.
 *
 * Deploy-only, CommonJS on purpose: osls `require()`s infra/schedules.cjs, which requires this.
 */

/** osls's names for the sweeper's rule and target (`<Function>EventsRuleSchedule1`, `<function>Schedule`). */
const SWEEPER_RULE_ID = "RetryRevocationsEventsRuleSchedule1";
const SWEEPER_TARGET_ID = "retryRevocationsSchedule";
const SWEEPER_FUNCTION_ID = "RetryRevocationsLambdaFunction";
/** infra/secret-reads.yml's rule: it delivers to this stack's dead-letter queue too. */
const SECRET_READ_RULE_ID = "SecretReadRule";
/** infra/hygiene.yml's weekly rule: it delivers to this stack's dead-letter queue too. */
const HYGIENE_RULE_ID = "HygieneAuditRule";
/** infra/misuse.yml's hourly rule: it delivers to this stack's dead-letter queue too. */
const MISUSE_RULE_ID = "MisuseHourlyRule";
const DLQ_ID = "ScheduleDeadLetterQueue";
const ALERT_TOPIC = { Ref: "AlertTopic" };
/** EventBridge rule names: 1-64 characters of `.-_A-Za-z0-9`. */
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
/** SQS keeps a message at most 14 days: the longest an operator has to look at a missed start. */
const DLQ_RETENTION_SECONDS = 14 * 24 * 3600;

const getAtt = (id, attribute) => ({ "Fn::GetAtt": [id, attribute] });
const DEAD_LETTER = { Arn: getAtt(DLQ_ID, "Arn") };
/** The rules of the stack outside infra/schedules.cjs that deliver to the dead-letter queue. */
const DELIVERING_RULE_IDS = [SWEEPER_RULE_ID, SECRET_READ_RULE_ID, HYGIENE_RULE_ID, MISUSE_RULE_ID];

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
 * The dead-letter queue, the policy that lets exactly the stack's rules (`ruleIds`) write to it,
 * and the alarm on a message in it.
 */
function deadLetterResources(prefix, ruleIds) {
  return {
    // SSE with SQS-owned keys: EventBridge writes to it without a key policy. The AWS managed key
    // alias/aws/sqs would not do: its key policy cannot grant events.amazonaws.com.
    [DLQ_ID]: {
      Type: "AWS::SQS::Queue",
      Properties: {
        QueueName: `${prefix}-schedule-dlq`,
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: DLQ_RETENTION_SECONDS,
      },
    },
    ScheduleDeadLetterQueuePolicy: {
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
              Condition: {
                ArnEquals: { "aws:SourceArn": [...ruleIds].sort().map((id) => getAtt(id, "Arn")) },
              },
            },
          ],
        },
      },
    },
    ScheduleDeadLetterQueueAlarm: {
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
    },
  };
}

/** osls's sweeper rule, its target restated whole (extensions assign `Properties` keys shallowly). */
function sweeperTargetExtension(retry) {
  return {
    [SWEEPER_RULE_ID]: {
      Properties: {
        Targets: [
          {
            Id: SWEEPER_TARGET_ID,
            Arn: getAtt(SWEEPER_FUNCTION_ID, "Arn"),
            RetryPolicy: retry,
            DeadLetterConfig: DEAD_LETTER,
          },
        ],
      },
    },
  };
}

module.exports = {
  ALERT_TOPIC,
  DEAD_LETTER,
  DEAD_LETTER_QUEUE_URL: { Ref: DLQ_ID },
  DELIVERING_RULE_IDS,
  RULE_NAME,
  deadLetterResources,
  failedInvocationsAlarm,
  getAtt,
  retryPolicy,
  sweeperTargetExtension,
};
