"use strict";
/**
 * The heartbeat function URL's resource policy for consumers in other AWS accounts
 * (`--param consumerAccounts=111122223333,444455556666`). serverless.yml includes
 * `${file(infra/heartbeat.cjs):resources}` in `resources`.
 *
 * With AWS_IAM auth a caller in this account needs only its own identity policy
 * (docs/consumer-heartbeat-policy.json); a caller in another account needs that policy in its
 * account AND this resource policy. Two statements per account, as Lambda requires of function URLs
 * created since October 2025: `lambda:InvokeFunctionUrl` (for AWS_IAM URLs only) and
 * `lambda:InvokeFunction` (only through a function URL — never a direct Invoke, whose event the
 * caller would write, `requestContext.authorizer` included). Granting an account lets its
 * principals knock; only roles registered as consumers are heard (the heartbeat checks the registry).
 *
 * CommonJS on purpose: osls `require()`s this file and the package is `"type": "module"`.
 */
const FUNCTION_ID = "HeartbeatLambdaFunction";
const ACCOUNT = /^\d{12}$/;

/** A logical-id-safe, stable suffix per account. */
const idOf = (account) => `HeartbeatUrlConsumerAccount${account}`;

/** @param {string | string[] | undefined} value comma-separated account ids, or a list */
function consumerAccounts(value) {
  const list = Array.isArray(value) ? value : String(value ?? "").split(",");
  const accounts = [...new Set(list.map((a) => String(a).trim()).filter(Boolean))];
  const bad = accounts.filter((a) => !ACCOUNT.test(a));
  if (bad.length > 0) {
    throw new Error(
      `custom.heartbeat.consumerAccounts: ${bad.map((b) => JSON.stringify(b)).join(", ")} ` +
        "is not a 12-digit AWS account id (use --param consumerAccounts=111122223333,444455556666)",
    );
  }
  return accounts;
}

/** The CloudFormation fragment: two `AWS::Lambda::Permission` per consumer account. */
function heartbeatResources(value) {
  const Resources = {};
  for (const account of consumerAccounts(value)) {
    Resources[`${idOf(account)}Url`] = {
      Type: "AWS::Lambda::Permission",
      Properties: {
        FunctionName: { "Fn::GetAtt": [FUNCTION_ID, "Arn"] },
        Action: "lambda:InvokeFunctionUrl",
        Principal: account,
        FunctionUrlAuthType: "AWS_IAM",
      },
    };
    Resources[`${idOf(account)}Invoke`] = {
      Type: "AWS::Lambda::Permission",
      Properties: {
        FunctionName: { "Fn::GetAtt": [FUNCTION_ID, "Arn"] },
        Action: "lambda:InvokeFunction",
        Principal: account,
        InvokedViaFunctionUrl: true,
      },
    };
  }
  return { Resources };
}

module.exports = {
  consumerAccounts,
  heartbeatResources,
  /** `${file(infra/heartbeat.cjs):resources}`: accounts from `custom.heartbeat.consumerAccounts`. */
  resources: async ({ resolveVariable }) =>
    heartbeatResources(await resolveVariable("self:custom.heartbeat.consumerAccounts")),
};
