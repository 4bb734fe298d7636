/**
 * Who may use what the stack creates, beyond each function's own grants: the alert topic's
 * publishers, the trust of the roles AWS services assume (confused deputy), the labels the
 * functions may move, and docs/deploy.md against the template. Run by template.test.ts on its one
 * compiled template: two `serverless package` runs at once in one checkout share serverless-esbuild's
 * work directory and corrupt each other's zips.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { alertTopicResources, publishersOf } from "../../infra/alert-topic.cjs";
import { STAGE } from "../../src/core/model";
import {
  asArray,
  type CfnResource,
  label,
  ROOT,
  resource,
  resourcesOfType,
  roleStatements,
  type Statement,
  type Template,
} from "./packaged";
import { actionsOf } from "./views";

type PolicyStatement = Statement & { Sid?: string; Principal: unknown };
const trustOf = (role: CfnResource) =>
  (role.Properties.AssumeRolePolicyDocument as { Statement: PolicyStatement[] }).Statement;
const ACCOUNT = { Ref: "AWS::AccountId" };

/** The suites, over `compiled()`: the template that template.test.ts packaged. */
export function hardeningSuites(compiled: () => Template): void {
  const roles = () => resourcesOfType(compiled(), "AWS::IAM::Role");
  describe("the alert topic", () => {
    const policy = () => {
      const policies = resourcesOfType(compiled(), "AWS::SNS::TopicPolicy");
      expect(policies.map(([, p]) => (p.Properties.Topics as unknown[]).map(label))).toEqual([
        ["AlertTopic"],
      ]);
      const [[, topicPolicy] = ["", { Type: "", Properties: {} }]] = policies;
      return (topicPolicy.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement;
    };
    /** Roles of the stack granted sns:Publish on the topic by their own policies. */
    const alertingRoles = () =>
      roles()
        .filter(([, role]) =>
          roleStatements(role).some(
            (s) =>
              s.Effect === "Allow" &&
              actionsOf(s).includes("sns:Publish") &&
              label(s.Resource) === "AlertTopic",
          ),
        )
        .map(([id]) => id)
        .sort();

    it("lets keyshift's alerting function roles publish, and no other principal", () => {
      const [functions] = policy().filter(
        (s) => s.Effect === "Allow" && JSON.stringify(s.Principal).includes("AWS"),
      );

      // At least today's eight; a new alerting function joins by its grant (infra/alert-topic.cjs).
      expect(alertingRoles()).toEqual(
        expect.arrayContaining(
          [
            "AbortRotation",
            "BeginRotation",
            "CompleteRotation",
            "CreateNext",
            "Heartbeat",
            "MarkStalled",
            "RetryRevocations",
            "RevokePrevious",
          ].map((f) => `${f}IamRoleLambdaExecution`),
        ),
      );
      expect(
        asArray((functions?.Principal as { AWS?: unknown } | undefined)?.AWS ?? [])
          .map(label)
          .sort(),
      ).toEqual(alertingRoles());
      expect(actionsOf(functions as Statement)).toEqual(["sns:Publish"]);
      // The default topic policy (every principal of the account) is replaced, never widened.
      for (const s of policy().filter((st) => st.Effect === "Allow")) {
        expect(JSON.stringify(s.Principal)).not.toMatch(/"\*"|:root/);
      }
    });

    it("lets CloudWatch publish only for this account's alarms of this stack", () => {
      const cloudwatch = policy().filter((s) =>
        JSON.stringify(s.Principal).includes("cloudwatch.amazonaws.com"),
      );
      const allow = cloudwatch.find((s) => s.Effect === "Allow");

      expect(actionsOf(allow as Statement)).toEqual(["sns:Publish"]);
      expect(allow?.Condition?.StringEquals).toEqual({ "aws:SourceAccount": ACCOUNT });
      expect(label(allow?.Condition?.ArnLike?.["aws:SourceArn"])).toBe(
        "arn:aws:cloudwatch:<region>:<account>:alarm:keyshift-dev-*",
      );
      // Every alarm that notifies the topic matches: named keyshift-dev-..., or unnamed (CloudFormation
      // then names it <stack>-<logicalId>-<suffix>, and the stack is keyshift-dev).
      const notifying = resourcesOfType(compiled(), "AWS::CloudWatch::Alarm").filter(([, a]) =>
        (a.Properties.AlarmActions as unknown[]).map(label).includes("AlertTopic"),
      );
      expect(notifying.length).toBeGreaterThan(5);
      for (const [id, alarm] of notifying) {
        const name = alarm.Properties.AlarmName;
        expect(name === undefined || (name as string).startsWith("keyshift-dev-"), `${id}: ${name}`).toBe(
          true,
        );
      }
    });

    it("denies every other publisher, so an identity policy in the account is not enough", () => {
      const deny = policy().filter((s) => s.Effect === "Deny");

      expect(deny).toHaveLength(1);
      expect([deny[0]?.Principal, actionsOf(deny[0] as Statement)]).toEqual(["*", ["sns:Publish"]]);
      expect(deny[0]?.Condition).toEqual({
        ArnNotEquals: { "aws:PrincipalArn": alertingRoles().map((id) => ({ "Fn::GetAtt": [id, "Arn"] })) },
        StringNotEqualsIfExists: { "aws:PrincipalServiceName": "cloudwatch.amazonaws.com" },
      });
    });

    it("derives its publishers from the functions' grants (infra/alert-topic.cjs)", () => {
      const publish = { Effect: "Allow", Action: ["sns:Publish"], Resource: { Ref: "AlertTopic" } };
      const functions = {
        alerting: { iamRoleStatements: [publish] },
        "with-dash": { iamRoleStatements: [{ ...publish, Action: "sns:Publish" }] },
        otherTopic: { iamRoleStatements: [{ ...publish, Resource: { Ref: "Other" } }] },
        denied: { iamRoleStatements: [{ ...publish, Effect: "Deny" }] },
        quiet: {},
      };

      expect(publishersOf(functions)).toEqual(["alerting", "with-dash"]);
      expect(JSON.stringify(alertTopicResources({ stackName: "s-d", functions }))).toContain(
        '"Fn::GetAtt":["WithDashdashIamRoleLambdaExecution","Arn"]',
      );
      expect(() => alertTopicResources({ stackName: "s-d", functions: { quiet: {} } })).toThrow(
        "no function publishes",
      );
    });
  });

  describe("roles AWS services assume (confused deputy)", () => {
    it("every role a service other than Lambda assumes is bound to this account and to keyshift's own resource", () => {
      const serviceRoles = roles().filter(([, role]) =>
        trustOf(role).some((s) => !JSON.stringify(s.Principal).includes("lambda.amazonaws.com")),
      );

      expect(serviceRoles.map(([id]) => id).sort()).toEqual([
        "HygieneAuditRuleRole",
        "HygieneStateMachineRole",
        "RotationSchedulerRole",
        "RotationStateMachineRole",
      ]);
      for (const [id, role] of serviceRoles) {
        for (const s of trustOf(role)) {
          expect(s.Condition?.StringEquals?.["aws:SourceAccount"], id).toEqual(ACCOUNT);
          expect(s.Condition?.ArnLike?.["aws:SourceArn"], id).toBeDefined();
        }
      }
    });

    it("the state machine's role: assumed for the rotation state machine (and its versions) only", () => {
      const [trust] = trustOf(resource(compiled(), "RotationStateMachineRole"));
      const name = resource(compiled(), "RotationStateMachine").Properties.StateMachineName;

      expect(label((trust?.Principal as { Service?: unknown } | undefined)?.Service)).toBe(
        "states.<region>.amazonaws.com",
      );
      expect(asArray(trust?.Condition?.ArnLike?.["aws:SourceArn"]).map(label)).toEqual([
        `arn:aws:states:<region>:<account>:stateMachine:${name}`,
        `arn:aws:states:<region>:<account>:stateMachine:${name}:*`,
      ]);
    });

    it("the hygiene state machine's role: assumed for that state machine (and its versions) only", () => {
      const [trust] = trustOf(resource(compiled(), "HygieneStateMachineRole"));
      const name = resource(compiled(), "HygieneStateMachine").Properties.StateMachineName;

      expect(label((trust?.Principal as { Service?: unknown } | undefined)?.Service)).toBe(
        "states.<region>.amazonaws.com",
      );
      expect(asArray(trust?.Condition?.ArnLike?.["aws:SourceArn"]).map(label)).toEqual([
        `arn:aws:states:<region>:<account>:stateMachine:${name}`,
        `arn:aws:states:<region>:<account>:stateMachine:${name}:*`,
      ]);
    });

    it("the weekly hygiene rule's role: assumed by EventBridge for that rule only", () => {
      const [trust] = trustOf(resource(compiled(), "HygieneAuditRuleRole"));
      const rule = resource(compiled(), "HygieneAuditRule").Properties.Name;

      expect(trust?.Principal).toEqual({ Service: "events.amazonaws.com" });
      expect(label(trust?.Condition?.ArnLike?.["aws:SourceArn"])).toBe(
        `arn:aws:events:<region>:<account>:rule/${rule}`,
      );
    });

    it("the schedules' role: assumed by Scheduler for this stack's schedule group only, the group keyshift writes to", () => {
      const [trust] = trustOf(resource(compiled(), "RotationSchedulerRole"));
      const group = resource(compiled(), "RotationScheduleGroup").Properties.Name;

      expect(label((trust?.Principal as { Service?: unknown } | undefined)?.Service)).toBe(
        "scheduler.amazonaws.com",
      );
      expect(label(trust?.Condition?.ArnLike?.["aws:SourceArn"])).toBe(
        `arn:aws:scheduler:<region>:<account>:schedule/${group}/*`,
      );
      // No EventBridge rule starts the state machine any more: only the group's schedules do.
      expect(
        resourcesOfType(compiled(), "AWS::Events::Rule").filter(([, r]) =>
          (r.Properties.Targets as { Arn?: unknown }[]).some((t) => label(t.Arn) === "RotationStateMachine"),
        ),
      ).toEqual([]);
    });
  });

  describe("labels", () => {
    it("UpdateSecretVersionStage is granted only with the labels the code moves: AWSCURRENT and AWSPENDING", () => {
      const grants = roles().flatMap(([id, role]) =>
        roleStatements(role)
          .filter((s) => actionsOf(s).includes("secretsmanager:UpdateSecretVersionStage"))
          .map((s) => [id, s] as const),
      );

      expect(grants.map(([id]) => id).sort()).toEqual([
        "AbortRotationIamRoleLambdaExecution",
        // rollback, executed by the operator API
        "OperatorApiIamRoleLambdaExecution",
        "PromoteCurrentIamRoleLambdaExecution",
      ]);
      for (const [id, s] of grants) {
        expect(actionsOf(s), id).toEqual(["secretsmanager:UpdateSecretVersionStage"]);
        expect(s.Condition, id).toEqual({
          "ForAnyValue:StringEquals": { "secretsmanager:VersionStage": [STAGE.current, STAGE.next] },
        });
      }
    });
  });

  describe("docs/deploy.md agrees with the compiled template", () => {
    const doc = () => readFileSync(join(ROOT, "docs", "deploy.md"), "utf8");

    it("lists exactly the stack's outputs", () => {
      const sentence = /Stack outputs: ([^.]*)\./s.exec(doc())?.[1] ?? "";
      const listed = [...sentence.matchAll(/`(\w+)`/g)].map((m) => m[1]).sort();

      expect(listed).toEqual(Object.keys(compiled().Outputs ?? {}).sort());
    });

    it("quotes every metric filter as it is compiled", () => {
      const text = doc();
      const patterns = resourcesOfType(compiled(), "AWS::Logs::MetricFilter").map(
        ([, f]) => f.Properties.FilterPattern as string,
      );

      expect(patterns.length).toBeGreaterThan(0);
      for (const pattern of new Set(patterns)) expect(text, pattern).toContain(pattern);
    });
  });
}
