import { describe, expect, it } from "vitest";
import { type ScheduleOptions, scheduleResources } from "../../infra/schedules.cjs";

/** infra/schedules.cjs on its own: the cases the checked-in config does not have. */
const OPTIONS: ScheduleOptions = {
  service: "keyshift",
  stage: "dev",
  secrets: [{ secretId: "keyshift/exchange/acme-main/trading", schedule: "rate(30 days)", enabled: true }],
  sweeperRuleName: "keyshift-dev-retry-revocations",
  rotationRetryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 },
  sweeperRetryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 60 },
};

const rulesOf = (options: ScheduleOptions) =>
  Object.entries(scheduleResources(options).Resources).filter(([, r]) => r.Type === "AWS::Events::Rule");

const sourceArnsOf = (options: ScheduleOptions) => {
  const policy = scheduleResources(options).Resources.ScheduleDeadLetterQueuePolicy?.Properties as {
    PolicyDocument: { Statement: { Condition: { ArnEquals: { "aws:SourceArn": unknown[] } } }[] };
  };
  return policy.PolicyDocument.Statement[0]?.Condition.ArnEquals["aws:SourceArn"];
};

describe("schedule resources (infra/schedules.cjs)", () => {
  it("names long secret ids' rules within EventBridge's 64 characters, distinct by a hash", () => {
    const long = (tail: string) => `keyshift/exchange/${"a".repeat(60)}/${tail}`;
    const secrets = [long("one"), long("two"), "keyshift/exchange/x y+z@w/p"].map((secretId) => ({
      secretId,
      schedule: "rate(30 days)",
      enabled: true,
    }));

    const names = rulesOf({ ...OPTIONS, secrets }).map(([, r]) => r.Properties.Name as string);

    expect(names).toHaveLength(3);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^keyshift-dev-rotate-[.\-_A-Za-z0-9]+-[0-9a-f]{10}$/);
    for (const name of names) expect(name.length).toBeLessThanOrEqual(64);
    expect(names[2]).toMatch(/^keyshift-dev-rotate-x-y-z-w-p-[0-9a-f]{10}$/);
  });

  it("derives each rule's logical id from its secret: reordering the config retargets nothing", () => {
    const secrets = ["a/one", "b/two", "c/three"].map((tail, i) => ({
      secretId: `keyshift/exchange/${tail}`,
      schedule: `rate(${30 + i} days)`,
      enabled: i !== 1,
    }));
    const reordered = [secrets[2], secrets[0], secrets[1]] as ScheduleOptions["secrets"];
    const targets = (options: ScheduleOptions) =>
      Object.fromEntries(
        rulesOf(options).map(([id, rule]) => {
          const [target] = rule.Properties.Targets as { Input: string }[];
          return [
            id,
            { input: JSON.parse(target?.Input ?? "{}"), schedule: rule.Properties.ScheduleExpression },
          ];
        }),
      );

    const before = scheduleResources({ ...OPTIONS, secrets });
    const after = scheduleResources({ ...OPTIONS, secrets: reordered });

    // Same logical id -> same secret, schedule and state; and nothing else in the fragment moves
    // (the dead-letter queue's policy lists the rules in a fixed order), so a deploy changes nothing.
    expect(targets({ ...OPTIONS, secrets: reordered })).toEqual(targets({ ...OPTIONS, secrets }));
    expect(Object.keys(targets({ ...OPTIONS, secrets }))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^RotationSchedule[0-9a-f]{10}$/)]),
    );
    expect(after).toEqual(before);
    expect(JSON.stringify(sourceArnsOf({ ...OPTIONS, secrets: reordered }))).toBe(
      JSON.stringify(sourceArnsOf({ ...OPTIONS, secrets })),
    );
  });

  it("keeps a disabled entry's rule, DISABLED, with the same delivery settings", () => {
    const [[, rule] = []] = rulesOf({
      ...OPTIONS,
      secrets: [{ ...(OPTIONS.secrets[0] as ScheduleOptions["secrets"][number]), enabled: false }],
    });

    expect(rule?.Properties.State).toBe("DISABLED");
    expect(rule?.Properties.Targets).toEqual([
      expect.objectContaining({
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { "Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"] } },
      }),
    ]);
  });

  it("with no secret enrolled: no rotation rule, no role, the queue open to the sweeper's, secret-read, hygiene and misuse rules only", () => {
    const none = { ...OPTIONS, secrets: [] };

    expect(rulesOf(none)).toEqual([]);
    expect(scheduleResources(none).Resources.RotationScheduleToStepFunctionsRole).toBeUndefined();
    expect(sourceArnsOf(none)).toEqual([
      { "Fn::GetAtt": ["HygieneAuditRule", "Arn"] },
      { "Fn::GetAtt": ["MisuseHourlyRule", "Arn"] },
      { "Fn::GetAtt": ["RetryRevocationsEventsRuleSchedule1", "Arn"] },
      { "Fn::GetAtt": ["SecretReadRule", "Arn"] },
    ]);
  });

  it.each([
    [
      { rotationRetryPolicy: { maximumRetryAttempts: 186, maximumEventAgeInSeconds: 3600 } },
      "rotationRetryPolicy",
    ],
    [{ sweeperRetryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 59 } }, "sweeperRetryPolicy"],
    [{ sweeperRetryPolicy: { maximumRetryAttempts: 2 } }, "sweeperRetryPolicy"],
    [{ sweeperRuleName: "keyshift dev sweeper" }, "sweeperRuleName"],
  ])("fails packaging on %j", (change, setting) => {
    expect(() => scheduleResources({ ...OPTIONS, ...change } as ScheduleOptions)).toThrow(
      `custom.schedules.${setting}`,
    );
  });
});
