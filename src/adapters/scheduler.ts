import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListSchedulesCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
} from "@aws-sdk/client-scheduler";
import {
  type RotationSchedule,
  ScheduleExistsError,
  ScheduleNotFoundError,
  type ScheduleStore,
  type ScheduleSummary,
} from "../core/ports";

/**
 * The rotation schedules on EventBridge Scheduler, in the stack's schedule group (the template's
 * `AWS::Scheduler::ScheduleGroup`, stack output RotationScheduleGroupName). Each schedule's target
 * is the Step Functions *templated* target: its `Arn` is the state machine's, and Scheduler calls
 * StartExecution with `Input` as the execution input ("Using templated targets",
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html),
 * assuming the execution role, which may only `states:StartExecution` on that state machine.
 * ConflictException and ResourceNotFoundException become the port's errors; the rest propagate.
 */
export class SchedulerScheduleStore implements ScheduleStore {
  constructor(
    private readonly client: SchedulerClient,
    private readonly groupName: string,
  ) {}

  async get(name: string): Promise<RotationSchedule | undefined> {
    try {
      const found = await this.client.send(new GetScheduleCommand({ Name: name, GroupName: this.groupName }));
      return fromSdk(name, found);
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw err;
    }
  }

  async listNames(): Promise<string[]> {
    return (await this.listSummaries()).map((s) => s.name);
  }

  /** ListSchedules of the group, page after page (MaxResults 100, the most a page holds). */
  async listSummaries(): Promise<ScheduleSummary[]> {
    const summaries: ScheduleSummary[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListSchedulesCommand({ GroupName: this.groupName, MaxResults: 100, NextToken }),
      );
      for (const s of page.Schedules ?? []) {
        if (!s.Name) continue;
        summaries.push({
          name: s.Name,
          enabled: s.State !== "DISABLED",
          targetArn: s.Target?.Arn ?? "",
          modifiedAt: (s.LastModificationDate ?? new Date(0)).toISOString(),
        });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return summaries;
  }

  async create(schedule: RotationSchedule): Promise<void> {
    try {
      await this.client.send(new CreateScheduleCommand(this.toSdk(schedule)));
    } catch (err) {
      if (err instanceof ConflictException) throw new ScheduleExistsError(schedule.name, { cause: err });
      throw err;
    }
  }

  async update(schedule: RotationSchedule): Promise<void> {
    try {
      await this.client.send(new UpdateScheduleCommand(this.toSdk(schedule)));
    } catch (err) {
      if (err instanceof ResourceNotFoundException)
        throw new ScheduleNotFoundError(schedule.name, { cause: err });
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.groupName }));
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
  }

  private toSdk(s: RotationSchedule): CreateScheduleCommandInput {
    return {
      Name: s.name,
      GroupName: this.groupName,
      Description: s.description,
      ScheduleExpression: s.expression,
      ScheduleExpressionTimezone: s.timezone,
      State: s.enabled ? "ENABLED" : "DISABLED",
      FlexibleTimeWindow:
        s.flexibleWindowMinutes === undefined
          ? { Mode: "OFF" }
          : { Mode: "FLEXIBLE", MaximumWindowInMinutes: s.flexibleWindowMinutes },
      Target: {
        Arn: s.target.arn,
        RoleArn: s.target.roleArn,
        Input: s.target.input,
        DeadLetterConfig: { Arn: s.target.deadLetterArn },
        RetryPolicy: {
          MaximumRetryAttempts: s.target.retryPolicy.maximumRetryAttempts,
          MaximumEventAgeInSeconds: s.target.retryPolicy.maximumEventAgeInSeconds,
        },
      },
    };
  }
}

/** GetSchedule's answer as the port's shape; a field Scheduler left out reads as empty, so it shows in a diff. */
function fromSdk(name: string, s: GetScheduleCommandOutput): RotationSchedule {
  const window = s.FlexibleTimeWindow;
  return {
    name,
    expression: s.ScheduleExpression ?? "",
    timezone: s.ScheduleExpressionTimezone ?? "UTC",
    enabled: s.State !== "DISABLED",
    ...(window?.Mode === "FLEXIBLE" && window.MaximumWindowInMinutes !== undefined
      ? { flexibleWindowMinutes: window.MaximumWindowInMinutes }
      : {}),
    description: s.Description ?? "",
    target: {
      arn: s.Target?.Arn ?? "",
      roleArn: s.Target?.RoleArn ?? "",
      deadLetterArn: s.Target?.DeadLetterConfig?.Arn ?? "",
      retryPolicy: {
        maximumRetryAttempts: s.Target?.RetryPolicy?.MaximumRetryAttempts ?? -1,
        maximumEventAgeInSeconds: s.Target?.RetryPolicy?.MaximumEventAgeInSeconds ?? -1,
      },
      input: s.Target?.Input ?? "",
    },
  };
}
