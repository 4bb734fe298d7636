"use strict";
/**
 * The alert topic's access policy. Without one, SNS gives a topic the default policy, which lets
 * every principal of the account publish: anyone could send a fake "rotation stalled" or bury a real
 * alert in noise. This policy lets exactly two kinds of caller publish:
 * - the roles of keyshift's functions that are granted `sns:Publish` on the topic (derived from
 *   infra/functions.yml, so a new alerting function is allowed by the same line that grants it);
 * - CloudWatch alarms of this account whose name starts with the stack's name (`<service>-<stage>-`:
 *   every alarm of the stack is named so, and an unnamed one gets `<stack>-<logicalId>-<suffix>`),
 *   checked by `aws:SourceAccount` and `aws:SourceArn` (confused deputy).
 * Everyone else is denied explicitly: in the same account an identity policy granting `sns:Publish`
 * would otherwise still be enough.
 *
 * CommonJS on purpose: osls `require()`s this file and the package is `"type": "module"`.
 */

const TOPIC_ID = "AlertTopic";
const TOPIC = { Ref: TOPIC_ID };
const sub = (text) => ({ "Fn::Sub": text });

/** serverless-iam-roles-per-function's role of a function (`beginRotation` → `BeginRotationIamRoleLambdaExecution`). */
function roleIdOf(functionName) {
  const normalized = functionName.replace(/-/g, "Dash").replace(/_/g, "Underscore");
  return `${normalized[0].toUpperCase()}${normalized.slice(1)}IamRoleLambdaExecution`;
}

const asArray = (v) => (Array.isArray(v) ? v : [v]);
const isTopicRef = (r) => r !== null && typeof r === "object" && r.Ref === TOPIC_ID;

/** The functions whose role statements allow `sns:Publish` on the alert topic, sorted. */
function publishersOf(functions) {
  return Object.entries(functions ?? {})
    .filter(([, fn]) =>
      (fn?.iamRoleStatements ?? []).some(
        (s) =>
          s.Effect === "Allow" &&
          asArray(s.Action).includes("sns:Publish") &&
          asArray(s.Resource).some(isTopicRef),
      ),
    )
    .map(([name]) => name)
    .sort();
}

/**
 * @param {object} options
 * @param {string} options.stackName `<service>-<stage>`, the prefix of every alarm of the stack
 * @param {Record<string, {iamRoleStatements?: object[]}>} options.functions `functions:` as resolved
 */
function alertTopicResources({ stackName, functions }) {
  const publishers = publishersOf(functions);
  if (publishers.length === 0)
    throw new Error("no function publishes to the alert topic: check infra/functions.yml");
  const roles = publishers.map((name) => ({ "Fn::GetAtt": [roleIdOf(name), "Arn"] }));
  const alarms = sub(
    `arn:\${AWS::Partition}:cloudwatch:\${AWS::Region}:\${AWS::AccountId}:alarm:${stackName}-*`,
  );
  return {
    Resources: {
      AlertTopicPolicy: {
        Type: "AWS::SNS::TopicPolicy",
        Properties: {
          Topics: [TOPIC],
          PolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "KeyshiftFunctionsPublish",
                Effect: "Allow",
                Principal: { AWS: roles },
                Action: "sns:Publish",
                Resource: TOPIC,
              },
              {
                Sid: "AlarmsOfThisStackPublish",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: "sns:Publish",
                Resource: TOPIC,
                Condition: {
                  StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
                  ArnLike: { "aws:SourceArn": alarms },
                },
              },
              {
                Sid: "NobodyElsePublishes",
                Effect: "Deny",
                Principal: "*",
                Action: "sns:Publish",
                Resource: TOPIC,
                // Both must hold to deny: not one of the roles, and not CloudWatch (a service
                // principal's request carries aws:PrincipalServiceName; others do not).
                Condition: {
                  ArnNotEquals: { "aws:PrincipalArn": roles },
                  StringNotEqualsIfExists: { "aws:PrincipalServiceName": "cloudwatch.amazonaws.com" },
                },
              },
            ],
          },
        },
      },
    },
  };
}

module.exports = {
  alertTopicResources,
  publishersOf,
  roleIdOf,
  /** `${file(infra/alert-topic.cjs):resources}` in serverless.yml. */
  resources: async ({ resolveVariable }) => {
    const [service, stage, functions] = await Promise.all([
      resolveVariable("self:service"),
      resolveVariable("sls:stage"),
      resolveVariable("self:functions"),
    ]);
    return alertTopicResources({ stackName: `${service}-${stage}`, functions });
  },
};
