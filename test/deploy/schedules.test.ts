import { describe, expect, it } from "vitest";
import { resources, type ScheduleOptions, scheduleResources } from "../../infra/schedules.cjs";

/** infra/schedules.cjs on its own: the cases the packaged template does not show. */
const OPTIONS: ScheduleOptions = {
  service: "keyshift",
  stage: "dev",
  sweeperRuleName: "keyshift-dev-retry-revocations",
  sweeperRetryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 60 },
};

const sourceArnsOf = (options: ScheduleOptions) => {
  const policy = scheduleResources(options).Resources.ScheduleDeadLetterQueuePolicy?.Properties as {
    PolicyDocument: { Statement: { Condition: { ArnEquals: { "aws:SourceArn": unknown[] } } }[] };
  };
  return policy.PolicyDocument.Statement[0]?.Condition.ArnEquals["aws:SourceArn"];
};

describe("schedule resources (infra/schedules.cjs)", () => {
  it("reads no enrollment file: packaging resolves only the service, the stage and custom.schedules", async () => {
    const asked: string[] = [];
    const answers: Record<string, unknown> = {
      "self:service": "keyshift",
      "sls:stage": "dev",
      "self:custom.schedules": {
        sweeperRuleName: OPTIONS.sweeperRuleName,
        sweeperRetryPolicy: OPTIONS.sweeperRetryPolicy,
      },
    };
    const fragment = await resources({
      resolveVariable: async (address) => {
        asked.push(address);
        if (!(address in answers)) throw new Error(`packaging asked for ${address}`);
        return answers[address];
      },
    });

    expect(asked.sort()).toEqual(["self:custom.schedules", "self:service", "sls:stage"]);
    expect(fragment).toEqual(scheduleResources(OPTIONS));
    expect(JSON.stringify(fragment)).not.toMatch(/keyshift\/exchange\//);
  });

  it("the dead-letter queue is open to the sweeper's, secret-read, hygiene and misuse rules only (the schedules send as their role)", () => {
    expect(sourceArnsOf(OPTIONS)).toEqual([
      { "Fn::GetAtt": ["HygieneAuditRule", "Arn"] },
      { "Fn::GetAtt": ["MisuseHourlyRule", "Arn"] },
      { "Fn::GetAtt": ["RetryRevocationsEventsRuleSchedule1", "Arn"] },
      { "Fn::GetAtt": ["SecretReadRule", "Arn"] },
    ]);
  });

  it("names the group after the stage, within Scheduler's 64 characters", () => {
    expect(scheduleResources(OPTIONS).Resources.RotationScheduleGroup?.Properties.Name).toBe(
      "keyshift-dev-rotations",
    );
    expect(() => scheduleResources({ ...OPTIONS, stage: "x".repeat(60) })).toThrow("schedule group name");
  });

  it.each([
    [{ sweeperRetryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 59 } }, "sweeperRetryPolicy"],
    [{ sweeperRetryPolicy: { maximumRetryAttempts: 2 } }, "sweeperRetryPolicy"],
    [{ sweeperRuleName: "keyshift dev sweeper" }, "sweeperRuleName"],
  ])("fails packaging on %j", (change, setting) => {
    expect(() => scheduleResources({ ...OPTIONS, ...change } as ScheduleOptions)).toThrow(
      `custom.schedules.${setting}`,
    );
  });
});
