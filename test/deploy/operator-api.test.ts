import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  asArray,
  type CfnResource,
  label,
  packageOnce,
  resourcesOfType,
  type Statement,
  type Template,
} from "./packaged";
import { actionsOf } from "./views";

let template: Template;
let packageDir: string;
beforeAll(async () => {
  ({ template, dir: packageDir } = await packageOnce());
}, 180_000);
afterAll(() => {
  if (packageDir) rmSync(packageDir, { recursive: true, force: true });
});

const HUMAN_POLICIES = ["KeyshiftViewerPolicy", "KeyshiftOperatorPolicy", "KeyshiftApproverPolicy"];
/** The only DynamoDB and Secrets Manager actions a person may hold: each reads, none writes. */
const READS = new Set([
  "dynamodb:GetItem",
  "dynamodb:BatchGetItem",
  "dynamodb:Query",
  "dynamodb:Scan",
  "secretsmanager:ListSecretVersionIds",
  "secretsmanager:DescribeSecret",
  "secretsmanager:GetResourcePolicy",
]);

const statementsOf = (policy: CfnResource) =>
  (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;

describe("operator API: humans get invoke rights, the function does the writing", () => {
  it("serves the operator API at a function URL with AWS_IAM auth, and outputs it", () => {
    const urls = resourcesOfType(template, "AWS::Lambda::Url").map(([, u]) => [
      label(u.Properties.TargetFunctionArn),
      u.Properties.AuthType,
    ]);
    expect(urls).toContainEqual(["OperatorApiLambdaFunction", "AWS_IAM"]);
    expect(template.Outputs?.OperatorApiUrl).toMatchObject({
      Value: { "Fn::GetAtt": ["OperatorApiLambdaFunctionUrl", "FunctionUrl"] },
    });
  });

  it("outputs three human policies: viewer, operator, approver (and the schedule manager's, which writes no table or secret)", () => {
    const policies = resourcesOfType(template, "AWS::IAM::ManagedPolicy").map(([id]) => id);
    expect(policies.sort()).toEqual([...HUMAN_POLICIES, "RotationScheduleManagerPolicy"].sort());
    const scheduler = statementsOf(template.Resources.RotationScheduleManagerPolicy as CfnResource).flatMap(
      actionsOf,
    );
    expect(scheduler.filter((a) => a.startsWith("dynamodb:") || a.startsWith("secretsmanager:"))).toEqual([]);
    for (const id of HUMAN_POLICIES)
      expect(template.Outputs?.[`${id}Arn`]).toMatchObject({ Value: { Ref: id } });
  });

  it.each(HUMAN_POLICIES)("%s grants no DynamoDB or Secrets Manager write, and no wildcard", (id) => {
    const policy = template.Resources[id] as CfnResource;
    const actions = statementsOf(policy).flatMap(actionsOf);
    const dataActions = actions.filter((a) => a.startsWith("dynamodb:") || a.startsWith("secretsmanager:"));
    expect(dataActions.filter((a) => !READS.has(a))).toEqual([]);
    expect(actions.filter((a) => a.includes("*"))).toEqual([]);
    expect(statementsOf(policy).every((s) => s.Effect === "Allow")).toBe(true);
  });

  it("lets the operator and the approver invoke the operator API through its URL only, and the viewer not at all", () => {
    const lambdaGrants = (id: string) =>
      statementsOf(template.Resources[id] as CfnResource)
        .filter((s) => actionsOf(s).some((a) => a.startsWith("lambda:")))
        .map((s) => [actionsOf(s), asArray(s.Resource).map(label), s.Condition]);
    expect(lambdaGrants("KeyshiftViewerPolicy")).toEqual([]);
    // Each of them reads what the viewer reads, and nothing more.
    const reads = (id: string) =>
      statementsOf(template.Resources[id] as CfnResource).filter(
        (s) => !actionsOf(s)[0]?.startsWith("lambda:"),
      );
    expect(reads("KeyshiftOperatorPolicy")).toEqual(reads("KeyshiftViewerPolicy"));
    expect(reads("KeyshiftApproverPolicy")).toEqual(reads("KeyshiftViewerPolicy"));
    for (const id of ["KeyshiftOperatorPolicy", "KeyshiftApproverPolicy"]) {
      expect(lambdaGrants(id)).toEqual([
        [
          ["lambda:InvokeFunctionUrl"],
          ["OperatorApiLambdaFunction"],
          { StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" } },
        ],
        [
          ["lambda:InvokeFunction"],
          ["OperatorApiLambdaFunction"],
          { Bool: { "lambda:InvokedViaFunctionUrl": "true" } },
        ],
      ]);
    }
  });

  it("puts the stage's approval setting on the operator API: the safe default unless a param says otherwise", () => {
    const fn = template.Resources.OperatorApiLambdaFunction as CfnResource;
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.KEYSHIFT_APPROVAL_COMMANDS).toBe("default");
    expect(env.KEYSHIFT_APPROVAL_TTL_SECONDS).toBe("86400");
  });
});
