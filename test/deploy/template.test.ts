import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFINITION_PATH, loadLocalDefinition, resolveDefinition } from "../../harness/local/definition";
import { READ_TRAIL_PREFIX } from "../../harness/local/stack";
import { heartbeatResources } from "../../infra/heartbeat.cjs";
import { loadEnrollment } from "../../src/cli/enrollment-file";
import { loadConfig } from "../../src/commons/config";
import { auditArchiveSuites } from "./audit-archive";
import { loadBundles } from "./bundles";
import { cfnSpecSuites } from "./cfn-spec";
import { EXCHANGE_SECRETS, EXPECTED_GRANTS, STAR_RESOURCE_GRANTS, STEP_FUNCTIONS } from "./expected-grants";
import { hardeningSuites } from "./hardening";
import {
  asArray,
  type CfnResource,
  label,
  packageOnce,
  ROOT,
  resource,
  resourcesOfType,
  roleStatements,
  type Statement,
  type Template,
} from "./packaged";
import { actionsOf, deployedDefinition, grants, isLogs } from "./views";

// One `serverless package` for this whole file (see packaged.ts); everything below reads its output.
let template: Template;
let packageDir: string;
beforeAll(async () => {
  ({ template, dir: packageDir } = await packageOnce());
}, 180_000);
afterAll(() => {
  if (packageDir) rmSync(packageDir, { recursive: true, force: true });
});

// The alert topic's policy, the trust of service roles, the label condition, docs vs template.
hardeningSuites(() => template);
cfnSpecSuites("the packaged template", () => template);
auditArchiveSuites(() => template);

const FUNCTIONS = Object.keys(EXPECTED_GRANTS);
const fn = (name: string) => resource(template, `${name}LambdaFunction`);
const roleOf = (name: string) => resource(template, label(fn(name).Properties.Role));
const allRoles = () => resourcesOfType(template, "AWS::IAM::Role");

describe("IAM: one least-privilege role per function", () => {
  it.each(FUNCTIONS)("%s grants exactly the actions its code path calls", (name) => {
    expect(grants(roleOf(name))).toEqual(EXPECTED_GRANTS[name]);
  });

  it.each(FUNCTIONS)(
    "%s has its own role, trusted by Lambda only, writing only its own log group",
    (name) => {
      const roleId = label(fn(name).Properties.Role);
      expect(roleId).toBe(`${name}IamRoleLambdaExecution`);
      const role = roleOf(name);
      expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain("lambda.amazonaws.com");
      expect(role.Properties.ManagedPolicyArns ?? []).toEqual([]);
      const logs = roleStatements(role).filter(isLogs);
      const functionName = fn(name).Properties.FunctionName as string;
      expect(logs.flatMap((s) => asArray(s.Resource).map(label))).toEqual([
        `arn:aws:logs:<region>:<account>:log-group:/aws/lambda/${functionName}:*:*`,
      ]);
    },
  );

  it("uses KMS on the alert key only through SNS", () => {
    for (const name of FUNCTIONS) {
      for (const s of roleStatements(roleOf(name)).filter((st) =>
        actionsOf(st).some((a) => a.startsWith("kms:")),
      )) {
        expect(label(s.Condition?.StringEquals?.["kms:ViaService"])).toBe("sns.<region>.amazonaws.com");
      }
    }
  });

  it("never lets the heartbeat read a secret, nor any function edit the audit trail", () => {
    expect(
      Object.values(grants(roleOf("Heartbeat")))
        .flat()
        .filter((a) => a.startsWith("secretsmanager:")),
    ).toEqual([]);
    for (const [id, role] of allRoles()) {
      for (const s of roleStatements(role)) {
        const onAudit = asArray(s.Resource).some((r) => label(r).startsWith("AuditTable") || r === "*");
        const edits = actionsOf(s).filter((a) =>
          /^dynamodb:(UpdateItem|DeleteItem|BatchWriteItem|\*)$/.test(a),
        );
        expect(onAudit && edits.length > 0, `${id} may edit the audit table: ${edits}`).toBe(false);
      }
    }
  });

  it("has no wildcard action, and Resource * only where AWS offers no resource-level permission", () => {
    const starred: string[] = [];
    for (const [id, role] of allRoles()) {
      for (const s of roleStatements(role)) {
        for (const a of actionsOf(s)) expect(a, `${id}`).not.toMatch(/\*/);
        if (asArray(s.Resource).includes("*")) starred.push(...actionsOf(s).map((a) => `${id} ${a}`));
      }
    }
    expect(starred.sort()).toEqual(
      Object.entries(STAR_RESOURCE_GRANTS)
        .flatMap(([role, actions]) => actions.map((a) => `${role} ${a}`))
        .sort(),
    );
  });

  it("of this stack's roles only the state machines' may invoke Lambdas — the rotation's its steps, the hygiene's its audit — and no resource policy opens them", () => {
    const invokers = allRoles().filter(([, role]) =>
      roleStatements(role).some((s) => actionsOf(s).includes("lambda:InvokeFunction")),
    );
    const invoked = (roleId: string) =>
      new Set(
        roleStatements(resource(template, roleId))
          .filter((s) => actionsOf(s).includes("lambda:InvokeFunction"))
          .flatMap((s) => asArray(s.Resource).map(label)),
      );
    // The operator API invokes the reader that proves a manual deletion, that one function only.
    expect(invokers.map(([id]) => id).sort()).toEqual([
      "HygieneStateMachineRole",
      "OperatorApiIamRoleLambdaExecution",
      "RotationStateMachineRole",
    ]);
    expect(invoked("OperatorApiIamRoleLambdaExecution")).toEqual(new Set(["ProveDeletedLambdaFunction"]));
    expect(STEP_FUNCTIONS).not.toContain("ProveDeleted");
    expect(invoked("RotationStateMachineRole")).toEqual(
      new Set(STEP_FUNCTIONS.flatMap((n) => [`${n}LambdaFunction`, `${n}LambdaFunction:*`])),
    );
    expect(invoked("HygieneStateMachineRole")).toEqual(
      new Set(["HygieneAuditLambdaFunction", "HygieneAuditLambdaFunction:*"]),
    );
    expect(grants(resource(template, "HygieneStateMachineRole"))).toEqual({
      HygieneAuditLambdaFunction: ["lambda:InvokeFunction"],
      "HygieneAuditLambdaFunction:*": ["lambda:InvokeFunction"],
    });
    // Resource policies: EventBridge for the sweeper, the secret-read rule and the hourly misuse
    // run, nothing else (the weekly hygiene rule starts its state machine as its own role). The
    // heartbeat's function URL is AWS_IAM: callers in this account need only their own policy, so
    // none is granted here (other accounts only with --param consumerAccounts, see "heartbeat front door").
    const permissions = resourcesOfType(template, "AWS::Lambda::Permission").map(([, p]) => [
      label(p.Properties.FunctionName),
      p.Properties.Principal,
      label(p.Properties.SourceArn),
    ]);
    expect(permissions).toEqual(
      expect.arrayContaining([
        ["RetryRevocationsLambdaFunction", "events.amazonaws.com", "RetryRevocationsEventsRuleSchedule1"],
        ["SecretReadLambdaFunction", "events.amazonaws.com", "SecretReadRule"],
        ["MisuseHourlyLambdaFunction", "events.amazonaws.com", "MisuseHourlyRule"],
      ]),
    );
    expect(permissions).toHaveLength(3);
  });

  it("never creates the framework's shared Lambda role, and nothing refers to it", () => {
    const shared = resource(template, "IamRoleLambdaExecution");
    expect(shared.Condition).toBe("SharedLambdaRoleUnused");
    expect(template.Conditions?.SharedLambdaRoleUnused).toEqual({
      "Fn::Equals": ["shared-lambda-role", "unused"],
    });
    const { IamRoleLambdaExecution: _, ...others } = template.Resources;
    expect(JSON.stringify(others)).not.toContain('"IamRoleLambdaExecution"');
  });
});

describe("functions", () => {
  it.each(FUNCTIONS)("%s runs nodejs22.x on arm64 with the environment config.ts requires", (name) => {
    const props = fn(name).Properties;
    expect([props.Runtime, props.Architectures]).toEqual(["nodejs22.x", ["arm64"]]);
    const vars = (props.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars.KEYSHIFT_ADMIN_SECRET_PREFIX).toBe("keyshift/admin/");
    expect(label(vars.KEYSHIFT_ALERT_TOPIC_ARN)).toBe("AlertTopic");
    expect(Object.keys(vars).filter((k) => k.startsWith("KEYSHIFT_ENDPOINT_"))).toEqual([]);
    // What Lambda would see: the runtime sets AWS_REGION, CloudFormation resolves the topic Ref and
    // the reader role's GetAtt.
    const resolved: Record<string, string> = {
      KEYSHIFT_ALERT_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:t",
      KEYSHIFT_READER_ROLE_ARNS:
        "arn:aws:iam::123456789012:role/keyshift-dev-createNext-eu-west-1-lambdaRole," +
        "arn:aws:iam::123456789012:role/keyshift-dev-proveDeleted-eu-west-1-lambdaRole",
      KEYSHIFT_PROVE_DELETED_FUNCTION: "keyshift-dev-proveDeleted",
      // the operator API's role joined with the (empty) param
      KEYSHIFT_POLICY_WRITER_ROLE_ARNS:
        "arn:aws:iam::123456789012:role/keyshift-dev-operatorApi-eu-west-1-lambdaRole,",
    };
    const env = Object.fromEntries(
      Object.entries(vars).map(([k, v]) => [
        k,
        typeof v === "string" ? v : (resolved[k] ?? JSON.stringify(v)),
      ]),
    );
    expect(() => loadConfig({ ...env, AWS_REGION: "eu-west-1" })).not.toThrow();
  });

  it("bundles every handler into an ESM file that loads on Node 22 and keeps error names", async () => {
    const bundles = await loadBundles(template, packageDir, FUNCTIONS);
    for (const name of FUNCTIONS) {
      expect(bundles[name], name).toMatchObject({ exports: expect.arrayContaining(["handler"]) });
      expect(bundles[name]?.zipBytes, name).toBeLessThan(1024 * 1024);
      // The shipped router knows only real exchanges: the harness's test protocol stays out.
      expect(bundles[name]?.testProtocol, name).toEqual([]);
    }
    // Minified, yet the ASL's Retry/Catch still see the class name.
    expect(bundles.CreateNext?.invalidInputError).toBe("InvalidInputError");
  }, 60_000);
});

describe("state machine", () => {
  const sm = () => resource(template, "RotationStateMachine").Properties;

  /** As deployed, minus the default `QueryLanguage` serverless-step-functions stamps on every state. */
  function deployed(): unknown {
    const { definition, stamps } = deployedDefinition(template);
    expect(new Set(stamps)).toEqual(new Set(["JSONPath"]));
    return definition;
  }

  it("deploys statemachines/rotation.asl.json unchanged", () => {
    const raw = JSON.parse(readFileSync(DEFINITION_PATH, "utf8"));
    expect(deployed()).toEqual(resolveDefinition(raw, (id) => `<${id}>`).definition);
  });

  it("is what the local runner executes", () => {
    const local = loadLocalDefinition();
    const placeholders = JSON.parse(
      JSON.stringify(local.definition).replace(/arn:aws:lambda:[^"]*:function:keyshift-local-(\w+)/g, "<$1>"),
    );
    expect(placeholders).toEqual(deployed());
    for (const logicalId of Object.values(local.taskFunctions))
      expect(template.Resources[logicalId]?.Type).toBe("AWS::Lambda::Function");
  });

  it("is Standard, logs errors without execution data, retains logs, tracing off by default", () => {
    expect(sm().StateMachineType).toBe("STANDARD");
    expect(sm().StateMachineName).toBe("keyshift-dev-rotation");
    expect(sm().LoggingConfiguration).toEqual({
      Level: "ERROR",
      IncludeExecutionData: false,
      Destinations: [
        { CloudWatchLogsLogGroup: { LogGroupArn: { "Fn::GetAtt": ["RotationLogGroup", "Arn"] } } },
      ],
    });
    expect(sm().TracingConfiguration).toEqual({ Enabled: false });
  });

  it("compiles no schedule per secret: a Scheduler group, the role its schedules start executions as, and the managed policy that manages them", () => {
    // Nothing in the template names an enrolled secret: the schedules are made at run time.
    const text = JSON.stringify(template);
    for (const s of loadEnrollment().secrets) expect(text).not.toContain(s.secretId);
    expect(
      resourcesOfType(template, "AWS::Events::Rule").filter(([, r]) =>
        (r.Properties.Targets as { Arn: unknown }[]).some((t) => label(t.Arn) === "RotationStateMachine"),
      ),
    ).toEqual([]);
    expect(resource(template, "RotationScheduleGroup")).toEqual({
      Type: "AWS::Scheduler::ScheduleGroup",
      Properties: { Name: "keyshift-dev-rotations" },
    });

    const role = resource(template, "RotationSchedulerRole");
    const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Record<string, unknown>[] })
      .Statement;
    expect(trust).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
          ArnLike: { "aws:SourceArn": expect.anything() },
        },
      },
    ]);
    expect(
      label(
        (trust[0]?.Condition as { ArnLike?: Record<string, unknown> } | undefined)?.ArnLike?.[
          "aws:SourceArn"
        ],
      ),
    ).toBe("arn:aws:scheduler:<region>:<account>:schedule/keyshift-dev-rotations/*");
    expect(roleStatements(role).map((s) => [actionsOf(s), label(s.Resource)])).toEqual([
      [["states:StartExecution"], "RotationStateMachine"],
      [["sqs:SendMessage"], "ScheduleDeadLetterQueue"],
    ]);

    const manager = resource(template, "RotationScheduleManagerPolicy");
    const statements = (manager.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    expect(statements.map((s) => [actionsOf(s), label(s.Resource), s.Condition])).toEqual([
      [
        [
          "scheduler:CreateSchedule",
          "scheduler:DeleteSchedule",
          "scheduler:GetSchedule",
          "scheduler:UpdateSchedule",
        ],
        "arn:aws:scheduler:<region>:<account>:schedule/keyshift-dev-rotations/*",
        undefined,
      ],
      [["scheduler:ListSchedules"], "*", undefined],
      [
        ["iam:PassRole"],
        "RotationSchedulerRole",
        { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
      ],
    ]);
    // What `keyshift enroll` / `apply` read from the stack (docs/deploy.md, "CLI environment").
    expect(Object.keys(template.Outputs ?? {})).toEqual(
      expect.arrayContaining([
        "RotationScheduleGroupName",
        "RotationSchedulerRoleArn",
        "ScheduleDeadLetterQueueArn",
        "RotationScheduleManagerPolicyArn",
      ]),
    );
  });

  it("no function but the operator API (which runs enroll) may manage schedules or pass the scheduler role; the hygiene audit only reads them", () => {
    const READS = ["scheduler:GetSchedule", "scheduler:ListSchedules"];
    for (const [id, r] of resourcesOfType(template, "AWS::IAM::Role")) {
      // The operator API's exact grant (its group's schedules, the scheduler role only) is pinned in
      // expected-grants.ts, and so is the hygiene audit's (reads); every other role holds none of it.
      if (id === "RotationSchedulerRole" || id === "OperatorApiIamRoleLambdaExecution") continue;
      for (const st of roleStatements(r)) {
        const scheduling = actionsOf(st).filter((a) => a.startsWith("scheduler:") || a === "iam:PassRole");
        if (id === "HygieneAuditIamRoleLambdaExecution")
          expect(
            scheduling.filter((a) => !READS.includes(a)),
            id,
          ).toEqual([]);
        else expect(scheduling, id).toEqual([]);
      }
    }
  });

  it("runs the weekly hygiene audit as its own Standard state machine, deploying statemachines/hygiene.asl.json unchanged", () => {
    const props = resource(template, "HygieneStateMachine").Properties;
    expect([props.StateMachineType, props.StateMachineName]).toEqual(["STANDARD", "keyshift-dev-hygiene"]);
    const { definition, stamps } = deployedDefinition(template, "HygieneStateMachine");
    expect(new Set(stamps)).toEqual(new Set(["JSONPath"]));
    const raw = JSON.parse(readFileSync(join(ROOT, "statemachines", "hygiene.asl.json"), "utf8"));
    expect(definition).toEqual(resolveDefinition(raw, (id) => `<${id}>`).definition);
    // One slice's Lambda: its 30-s stop margin inside a timeout long enough for a 10,000-secret fleet.
    expect(fn("HygieneAudit").Properties.Timeout).toBe(900);
    // The schedule group it checks, and what every schedule must call (as enroll writes them).
    const vars = (fn("HygieneAudit").Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(
      Object.fromEntries(
        [
          "KEYSHIFT_SCHEDULE_GROUP",
          "KEYSHIFT_STATE_MACHINE_ARN",
          "KEYSHIFT_SCHEDULER_ROLE_ARN",
          "KEYSHIFT_SCHEDULE_DLQ_ARN",
        ].map((k) => [k, label(vars[k])]),
      ),
    ).toEqual({
      KEYSHIFT_SCHEDULE_GROUP: "RotationScheduleGroup",
      KEYSHIFT_STATE_MACHINE_ARN: "RotationStateMachine",
      KEYSHIFT_SCHEDULER_ROLE_ARN: "RotationSchedulerRole",
      KEYSHIFT_SCHEDULE_DLQ_ARN: "ScheduleDeadLetterQueue",
    });
  });

  it("the weekly rule starts the hygiene state machine as a role that may start that machine only, with {} as input", () => {
    const [target, ...others] = resource(template, "HygieneAuditRule").Properties.Targets as Record<
      string,
      unknown
    >[];
    expect(others).toEqual([]);
    expect([label(target?.Arn), label(target?.RoleArn), target?.Input]).toEqual([
      "HygieneStateMachine",
      "HygieneAuditRuleRole",
      "{}",
    ]);
    expect(resource(template, "HygieneAuditRule").Properties.ScheduleExpression).toBe("rate(7 days)");
    expect(grants(resource(template, "HygieneAuditRuleRole"))).toEqual({
      HygieneStateMachine: ["states:StartExecution"],
    });
  });

  it("runs the revocation sweeper every 5 minutes, never two at once", () => {
    const rule = resource(template, "RetryRevocationsEventsRuleSchedule1").Properties;
    expect(rule.ScheduleExpression).toBe("rate(5 minutes)");
    expect((rule.Targets as { Arn: unknown }[]).map((t) => label(t.Arn))).toEqual([
      "RetryRevocationsLambdaFunction",
    ]);
    expect(fn("RetryRevocations").Properties.Timeout).toBeLessThan(300);
    expect(resource(template, "RetryRevocationsLambdaEvConf").Properties.MaximumRetryAttempts).toBe(0);
  });
});

describe("schedules: retries, dead-letter queue and alarms", () => {
  interface Target {
    Id: string;
    Arn: unknown;
    RetryPolicy?: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
    DeadLetterConfig?: { Arn: unknown };
  }
  const rules = () => resourcesOfType(template, "AWS::Events::Rule");
  const targetsOf = (rule: CfnResource) => rule.Properties.Targets as Target[];
  const alarms = () => resourcesOfType(template, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);
  const onlyAlarm = (namespace: string, metric: string, dimension: [string, string]) => {
    const found = alarms().filter(
      (a) =>
        a.Namespace === namespace &&
        a.MetricName === metric &&
        JSON.stringify(
          (a.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, label(d.Value)]),
        ) === JSON.stringify([dimension]),
    );
    expect(found, `${namespace} ${metric} ${dimension}`).toHaveLength(1);
    return found[0] as Record<string, unknown>;
  };

  it("gives every rule target the dead-letter queue and a retry policy within EventBridge's bounds", () => {
    // the sweeper's tick, the secret-read rule, the weekly hygiene audit, the hourly misuse run: none per
    // enrolled secret
    expect(rules().length).toBe(4);
    for (const [id, rule] of rules()) {
      for (const target of targetsOf(rule)) {
        expect(label(target.DeadLetterConfig?.Arn), id).toBe("ScheduleDeadLetterQueue");
        expect(target.DeadLetterConfig, id).toEqual({
          Arn: { "Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"] },
        });
        const { MaximumRetryAttempts, MaximumEventAgeInSeconds } = target.RetryPolicy ?? {};
        expect(MaximumRetryAttempts, id).toBeGreaterThanOrEqual(0);
        expect(MaximumRetryAttempts, id).toBeLessThanOrEqual(185);
        expect(MaximumEventAgeInSeconds, id).toBeGreaterThanOrEqual(60);
        expect(MaximumEventAgeInSeconds, id).toBeLessThanOrEqual(86_400);
      }
    }
  });

  it("retries a scheduled start for an hour, and a sweeper tick only while it cannot overlap the next", () => {
    const ownPolicies = ["RetryRevocationsEventsRuleSchedule1", "MisuseHourlyRule"];
    for (const [, rule] of rules().filter(([id]) => !ownPolicies.includes(id)))
      expect(targetsOf(rule)[0]?.RetryPolicy).toEqual({
        MaximumRetryAttempts: 10,
        MaximumEventAgeInSeconds: 3600,
      });
    // The sweeper's target, restated by infra/schedules.cjs over osls's: still the function, same id.
    const [sweeper] = targetsOf(resource(template, "RetryRevocationsEventsRuleSchedule1"));
    expect(sweeper).toMatchObject({
      Id: "retryRevocationsSchedule",
      Arn: { "Fn::GetAtt": ["RetryRevocationsLambdaFunction", "Arn"] },
      RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
    });
    const timeout = fn("RetryRevocations").Properties.Timeout as number;
    expect((sweeper?.RetryPolicy?.MaximumEventAgeInSeconds ?? Infinity) + timeout).toBeLessThanOrEqual(300);
    // The hourly misuse run: retried while a late run still ends before the next one starts.
    const [misuse] = targetsOf(resource(template, "MisuseHourlyRule"));
    const misuseTimeout = fn("MisuseHourly").Properties.Timeout as number;
    expect((misuse?.RetryPolicy?.MaximumEventAgeInSeconds ?? Infinity) + misuseTimeout).toBeLessThanOrEqual(
      3600,
    );
  });

  it("keeps failed events 14 days in an encrypted queue only this stack's rules may write to", () => {
    expect(resource(template, "ScheduleDeadLetterQueue").Properties).toEqual({
      QueueName: "keyshift-dev-schedule-dlq",
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const policies = resourcesOfType(template, "AWS::SQS::QueuePolicy");
    expect(policies.map(([, p]) => (p.Properties.Queues as unknown[]).map(label))).toEqual([
      ["ScheduleDeadLetterQueue"],
    ]);
    const [, policy] = policies[0] as [string, CfnResource];
    const { Statement } = policy.Properties.PolicyDocument as {
      Statement: (Statement & { Principal: unknown; Condition: { ArnEquals: Record<string, unknown[]> } })[];
    };
    expect(Statement).toHaveLength(1);
    const [grant] = Statement;
    expect([grant?.Effect, grant?.Principal, grant?.Action, label(grant?.Resource)]).toEqual([
      "Allow",
      { Service: "events.amazonaws.com" },
      "sqs:SendMessage",
      "ScheduleDeadLetterQueue",
    ]);
    // Scoped to exactly the rules that name this queue: a new rule without an entry fails here.
    expect(Object.keys(grant?.Condition ?? {})).toEqual(["ArnEquals"]);
    const sources = (grant?.Condition.ArnEquals["aws:SourceArn"] ?? []) as {
      "Fn::GetAtt": [string, string];
    }[];
    expect(sources.every((s) => s["Fn::GetAtt"]?.[1] === "Arn")).toBe(true);
    expect(sources.map((s) => s["Fn::GetAtt"][0]).sort()).toEqual(
      rules()
        .map(([id]) => id)
        .sort(),
    );
  });

  it("alarms on the schedule group's aggregate metrics, whatever the number of secrets", () => {
    for (const metric of ["TargetErrorCount", "InvocationsFailedToBeSentToDeadLetterCount"]) {
      expect(onlyAlarm("AWS/Scheduler", metric, ["ScheduleGroup", "keyshift-dev-rotations"])).toMatchObject({
        Statistic: "Sum",
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "notBreaching",
      });
    }
  });

  it("alarms when the dead-letter queue holds a message", () => {
    expect(
      onlyAlarm("AWS/SQS", "ApproximateNumberOfMessagesVisible", ["QueueName", "ScheduleDeadLetterQueue"]),
    ).toMatchObject({
      Statistic: "Maximum",
      Threshold: 0,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "notBreaching",
    });
  });

  it("alarms on every rule's FailedInvocations, by the rule's name", () => {
    for (const [id, rule] of rules()) {
      const name = rule.Properties.Name;
      expect(name, id).toMatch(/^keyshift-dev-[.\-_A-Za-z0-9]{1,51}$/);
      expect(onlyAlarm("AWS/Events", "FailedInvocations", ["RuleName", name as string])).toMatchObject({
        Statistic: "Sum",
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      });
    }
  });

  it("alarms on the sweeper's own errors and throttles", () => {
    for (const metric of ["Errors", "Throttles"]) {
      expect(
        onlyAlarm("AWS/Lambda", metric, ["FunctionName", "RetryRevocationsLambdaFunction"]),
      ).toMatchObject({
        Statistic: "Sum",
        Period: 300,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        TreatMissingData: "notBreaching",
      });
    }
  });

  it("alarms on the heartbeat's own errors and throttles (what the function URL answers 5xx and 429)", () => {
    for (const metric of ["Errors", "Throttles"]) {
      expect(onlyAlarm("AWS/Lambda", metric, ["FunctionName", "HeartbeatLambdaFunction"])).toMatchObject({
        Statistic: "Sum",
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
      });
    }
  });

  it("alarms on rejected heartbeats above a threshold, not on each one", () => {
    const [alarm] = alarms().filter((a) => a.MetricName === "HeartbeatRejections");
    expect(alarm).toMatchObject({ Namespace: "keyshift/dev", Statistic: "Sum", Period: 300 });
    expect(alarm?.Threshold as number).toBeGreaterThan(1);
  });

  it("outputs the dead-letter queue's URL for the operator", () => {
    expect(template.Outputs?.ScheduleDeadLetterQueueUrl).toMatchObject({
      Value: { Ref: "ScheduleDeadLetterQueue" },
    });
  });
});

describe("unregistered-reader alerts: the CloudTrail rule and the secret-read function", () => {
  interface Pattern {
    source: string[];
    "detail-type": string[];
    detail: {
      eventSource: string[];
      eventName: string[];
      requestParameters: { secretId: { prefix: unknown }[] };
    };
  }
  const rule = () => resource(template, "SecretReadRule").Properties;

  it("receives read-only management events, GetSecretValue of keyshift's exchange secrets only", () => {
    const pattern = rule().EventPattern as Pattern;

    // Without this state EventBridge never matches a Get* management event from CloudTrail.
    expect(rule().State).toBe("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
    expect(rule().Name).toBe("keyshift-dev-secret-reads");
    expect([
      pattern.source,
      pattern["detail-type"],
      pattern.detail.eventSource,
      pattern.detail.eventName,
    ]).toEqual([
      ["aws.secretsmanager"],
      ["AWS API Call via CloudTrail"],
      ["secretsmanager.amazonaws.com"],
      ["GetSecretValue"],
    ]);
    // By name or by ARN, exactly the secrets the roles are scoped to, and what the local stack routes.
    const prefixes = pattern.detail.requestParameters.secretId.map((p) => label(p.prefix));
    expect(prefixes).toEqual([READ_TRAIL_PREFIX, EXCHANGE_SECRETS.slice(0, -1)]);
    expect(EXCHANGE_SECRETS.endsWith(`:secret:${READ_TRAIL_PREFIX}*`)).toBe(true);
  });

  it("invokes the secret-read function, which knows keyshift's own readers: CreateNext's and ProveDeleted's roles", () => {
    const [target, ...others] = rule().Targets as { Id: string; Arn: unknown }[];
    expect(others).toEqual([]);
    expect(label(target?.Arn)).toBe("SecretReadLambdaFunction");
    const readerRoles = {
      "Fn::Join": [
        ",",
        [
          { "Fn::GetAtt": ["CreateNextIamRoleLambdaExecution", "Arn"] },
          { "Fn::GetAtt": ["ProveDeletedIamRoleLambdaExecution", "Arn"] },
        ],
      ],
    };
    // Everywhere a read policy is built or a read judged, the same list; the CLI gets it as an output.
    for (const name of ["SecretRead", "HygieneAudit", "OperatorApi"]) {
      const vars = (fn(name).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars.KEYSHIFT_READER_ROLE_ARNS, name).toEqual(readerRoles);
    }
    expect(template.Outputs?.KeyshiftReaderRoleArns).toMatchObject({ Value: readerRoles });
    // CreateNext and ProveDeleted are the functions that read an exchange key's value; the operator
    // API reads it once, at a first enrollment, before any read policy exists (after that the read
    // policy denies it: keys confirm-deleted asks ProveDeleted, whose name is in its environment).
    const readers = FUNCTIONS.filter((name) =>
      Object.entries(EXPECTED_GRANTS[name] ?? {}).some(
        ([res, actions]) => res === EXCHANGE_SECRETS && actions.includes("secretsmanager:GetSecretValue"),
      ),
    );
    expect(readers).toEqual(["CreateNext", "OperatorApi", "ProveDeleted"]);
    const operatorVars = (fn("OperatorApi").Properties.Environment as { Variables: Record<string, unknown> })
      .Variables;
    expect(operatorVars.KEYSHIFT_PROVE_DELETED_FUNCTION).toEqual({ Ref: "ProveDeletedLambdaFunction" });
  });

  it("alarms when a read cannot be recorded", () => {
    const alarm = resourcesOfType(template, "AWS::CloudWatch::Alarm")
      .map(([, a]) => a.Properties)
      .filter((a) => a.MetricName === "Errors")
      .find((a) => label((a.Dimensions as { Value: unknown }[])[0]?.Value) === "SecretReadLambdaFunction");
    expect(alarm).toMatchObject({ Namespace: "AWS/Lambda", Threshold: 1, TreatMissingData: "notBreaching" });
  });
});

describe("heartbeat front door: a function URL with AWS_IAM auth", () => {
  it("serves the heartbeat Lambda at a function URL that only signed callers reach, and outputs it", () => {
    const urls = resourcesOfType(template, "AWS::Lambda::Url");
    // The other function URL is the operator API's (test/deploy/operator-api.test.ts).
    expect(urls.map(([, u]) => [label(u.Properties.TargetFunctionArn), u.Properties.AuthType])).toEqual([
      ["HeartbeatLambdaFunction", "AWS_IAM"],
      ["OperatorApiLambdaFunction", "AWS_IAM"],
    ]);
    expect(urls[0]?.[1].Properties.Cors).toBeUndefined();
    expect(template.Outputs?.HeartbeatLambdaFunctionUrl).toMatchObject({
      Value: { "Fn::GetAtt": ["HeartbeatLambdaFunctionUrl", "FunctionUrl"] },
    });
    // No API Gateway left behind: no per-request charge on top of Lambda's.
    expect(Object.values(template.Resources).filter((r) => r.Type.startsWith("AWS::ApiGatewayV2::"))).toEqual(
      [],
    );
  });

  it("reserves concurrency for the fleet (and caps a flood), logs JSON without platform lines", () => {
    const props = fn("Heartbeat").Properties;
    expect(props.ReservedConcurrentExecutions).toBe(25);
    expect(props.MemorySize).toBe(256);
    expect(props.LoggingConfig).toEqual({ LogFormat: "JSON", SystemLogLevel: "WARN" });
  });

  it("lets other accounts in only as listed, and then only through the URL, never by direct Invoke", () => {
    expect(heartbeatResources("").Resources).toEqual({});
    const { Resources } = heartbeatResources("444455556666, 777788889999,444455556666");
    const statements = Object.values(Resources).map((r) => ({
      principal: r.Properties.Principal,
      action: r.Properties.Action,
      fn: label(r.Properties.FunctionName),
      authType: r.Properties.FunctionUrlAuthType,
      viaUrl: r.Properties.InvokedViaFunctionUrl,
    }));
    expect(statements).toEqual(
      ["444455556666", "777788889999"].flatMap((principal) => [
        {
          principal,
          action: "lambda:InvokeFunctionUrl",
          fn: "HeartbeatLambdaFunction",
          authType: "AWS_IAM",
          viaUrl: undefined,
        },
        {
          principal,
          action: "lambda:InvokeFunction",
          fn: "HeartbeatLambdaFunction",
          authType: undefined,
          viaUrl: true,
        },
      ]),
    );
    expect(() => heartbeatResources("12345,*")).toThrow(/"12345", "\*" is not a 12-digit AWS account id/);
  });

  it("gives consumers a policy for exactly this: the URL, and Invoke only through it", () => {
    const policy = JSON.parse(readFileSync(join(ROOT, "docs", "consumer-heartbeat-policy.json"), "utf8")) as {
      Statement: (Statement & { Sid: string })[];
    };
    const byAction = Object.fromEntries(policy.Statement.map((s) => [String(s.Action), s]));
    expect(Object.keys(byAction).sort()).toEqual(["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]);
    for (const s of policy.Statement) {
      expect(s.Effect).toBe("Allow");
      const resourceAtDev = String(s.Resource).replace("<STAGE>", "dev");
      expect(resourceAtDev).toBe(
        `arn:aws:lambda:<REGION>:<ACCOUNT_ID>:function:${fn("Heartbeat").Properties.FunctionName}`,
      );
    }
    expect(byAction["lambda:InvokeFunctionUrl"]?.Condition).toEqual({
      StringEquals: { "lambda:FunctionUrlAuthType": "AWS_IAM" },
    });
    expect(byAction["lambda:InvokeFunction"]?.Condition).toEqual({
      Bool: { "lambda:InvokedViaFunctionUrl": "true" },
    });
  });
});

describe("data, alerts and logs", () => {
  it.each(["consumers", "rotations", "ledger", "audit"])(
    "table %s: on-demand, PITR, encrypted, unprotected on dev",
    (name) => {
      const id = `${name[0]?.toUpperCase()}${name.slice(1)}Table`;
      const props = resource(template, id).Properties;
      expect(props).toMatchObject({
        TableName: `keyshift-dev-${name}`,
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: false,
      });
      expect(props.TimeToLiveSpecification).toEqual(
        name === "consumers" ? { AttributeName: "expiresAt", Enabled: true } : undefined,
      );
    },
  );

  it("encrypts the alert topic with a key CloudWatch alarms may use; e-mail only with --param alertEmail", () => {
    expect(label(resource(template, "AlertTopic").Properties.KmsMasterKeyId)).toBe("AlertKey");
    const key = resource(template, "AlertKey").Properties;
    expect(key.EnableKeyRotation).toBe(true);
    const statements = (key.KeyPolicy as { Statement: (Statement & { Principal: unknown })[] }).Statement;
    expect(
      statements.find((s) => JSON.stringify(s.Principal).includes("cloudwatch.amazonaws.com")),
    ).toMatchObject({
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Condition: { StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } },
    });
    const subscription = resource(template, "AlertEmailSubscription");
    expect([subscription.Condition, subscription.Properties.Protocol]).toEqual(["HasAlertEmail", "email"]);
    expect(template.Conditions?.HasAlertEmail).toEqual({ "Fn::Not": [{ "Fn::Equals": ["", ""] }] });
  });

  it("alarms on failed/timed-out executions and on the log metrics, all to the alert topic", () => {
    const alarms = resourcesOfType(template, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);
    for (const a of alarms) expect((a.AlarmActions as unknown[]).map(label)).toEqual(["AlertTopic"]);
    expect(alarms.map((a) => `${a.Namespace} ${a.MetricName}`).sort()).toEqual([
      // one per EventBridge rule: the sweeper's tick, secret reads, the weekly hygiene audit, the hourly misuse run
      "AWS/Events FailedInvocations",
      "AWS/Events FailedInvocations",
      "AWS/Events FailedInvocations",
      "AWS/Events FailedInvocations",
      // the sweeper's, the heartbeat's, the secret-read function's, the audit archive's, the misuse
      // run's (the hygiene audit's runs are its state machine's: ExecutionsFailed/TimedOut below)
      "AWS/Lambda Errors",
      "AWS/Lambda Errors",
      "AWS/Lambda Errors",
      "AWS/Lambda Errors",
      "AWS/Lambda Errors",
      // the audit archive falling behind the audit table's stream
      "AWS/Lambda IteratorAge",
      "AWS/Lambda Throttles",
      "AWS/Lambda Throttles",
      "AWS/SQS ApproximateNumberOfMessagesVisible",
      // the rotation schedules, all of them, by their group
      "AWS/Scheduler InvocationsFailedToBeSentToDeadLetterCount",
      "AWS/Scheduler TargetErrorCount",
      // the rotation state machine's and the hygiene state machine's
      "AWS/States ExecutionsFailed",
      "AWS/States ExecutionsFailed",
      "AWS/States ExecutionsTimedOut",
      "AWS/States ExecutionsTimedOut",
      "keyshift/dev HeartbeatFailures",
      "keyshift/dev HeartbeatRejections",
      "keyshift/dev RevocationsNeedingOperator",
      "keyshift/dev StalledRotations",
      "keyshift/dev UnknownFingerprints",
    ]);
    const filters = resourcesOfType(template, "AWS::Logs::MetricFilter").map(([, f]) => {
      const [metric] = f.Properties.MetricTransformations as { MetricName: string }[];
      return `${metric?.MetricName} <- ${label(f.Properties.LogGroupName)}: ${f.Properties.FilterPattern}`;
    });
    expect(filters.sort()).toEqual([
      'HeartbeatFailures <- HeartbeatLogGroup: { $.level = "ERROR" && $.message = "heartbeat failed" }',
      'HeartbeatRejections <- HeartbeatLogGroup: { $.level = "WARN" && $.message = "heartbeat rejected" }',
      'RevocationsNeedingOperator <- AbortRotationLogGroup: { $.message = "alert raised" && $.alertKind = "revocation-needs-operator" }',
      'RevocationsNeedingOperator <- RetryRevocationsLogGroup: { $.message = "alert raised" && $.alertKind = "revocation-needs-operator" }',
      'RevocationsNeedingOperator <- RevokePreviousLogGroup: { $.message = "alert raised" && $.alertKind = "revocation-needs-operator" }',
      'StalledRotations <- MarkStalledLogGroup: { $.message = "alert raised" && $.alertKind = "rotation-stalled" }',
      'UnknownFingerprints <- HeartbeatLogGroup: { $.message = "alert raised" && $.alertKind = "unknown-fingerprint" }',
    ]);
  });

  it("keeps every log group 90 days", () => {
    const groups = resourcesOfType(template, "AWS::Logs::LogGroup");
    expect(groups.length).toBe(FUNCTIONS.length + 1); // + the state machine's
    for (const [id, g] of groups) expect(g.Properties.RetentionInDays, id).toBe(90);
  });
});
