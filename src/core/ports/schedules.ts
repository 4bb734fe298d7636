/**
 * The run-time rotation schedules: one EventBridge Scheduler schedule per enrolled secret, in the
 * stack's schedule group (src/adapters/scheduler.ts; harness/memory/scheduler.ts). SDK-free: the
 * core decides every field (src/core/enrollment/schedule-spec.ts), the adapter maps them 1:1.
 */

/** How Scheduler retries a start the state machine refused or throttled (Target.RetryPolicy). */
export interface ScheduleRetryPolicy {
  maximumRetryAttempts: number;
  maximumEventAgeInSeconds: number;
}

/** What a schedule calls: StartExecution of the rotation state machine, as a templated target. */
export interface ScheduleTarget {
  /** The state machine's ARN (Scheduler's templated target for Step Functions StartExecution). */
  arn: string;
  /** The execution role Scheduler assumes (trusts scheduler.amazonaws.com, may StartExecution). */
  roleArn: string;
  /** The dead-letter queue a start goes to when its retries are spent. */
  deadLetterArn: string;
  retryPolicy: ScheduleRetryPolicy;
  /** The execution input, JSON: `{"secretId", "trigger": "schedule"}`. */
  input: string;
}

/** One rotation schedule, whole: what CreateSchedule / UpdateSchedule send and GetSchedule answers. */
export interface RotationSchedule {
  /** The schedule's name in the group, derived from the secret id (`scheduleNameOf`). */
  name: string;
  /** `rate(...)` or `cron(...)`, validated like Scheduler validates it. */
  expression: string;
  /** IANA time zone the cron fields are read in (ScheduleExpressionTimezone), e.g. `America/New_York`. */
  timezone: string;
  enabled: boolean;
  /** Absent: FlexibleTimeWindow OFF; else FLEXIBLE with this MaximumWindowInMinutes (1-1440). */
  flexibleWindowMinutes?: number;
  description: string;
  target: ScheduleTarget;
}

/** The schedule exists already (Scheduler's ConflictException on CreateSchedule). */
export class ScheduleExistsError extends Error {
  constructor(name: string, options?: ErrorOptions) {
    super(`schedule ${name} already exists`, options);
    this.name = "ScheduleExistsError";
  }
}

/** No such schedule (Scheduler's ResourceNotFoundException on UpdateSchedule). */
export class ScheduleNotFoundError extends Error {
  constructor(name: string, options?: ErrorOptions) {
    super(`schedule ${name} does not exist`, options);
    this.name = "ScheduleNotFoundError";
  }
}

/**
 * One schedule as ListSchedules summarises it: no expression, time zone, window, role or input
 * (those only GetSchedule answers), so a summary can tell missing, disabled or retargeted, not drift.
 */
export interface ScheduleSummary {
  name: string;
  enabled: boolean;
  /** Target.Arn: what the schedule starts (the rotation state machine). */
  targetArn: string;
  /** LastModificationDate, ISO 8601: any CreateSchedule or UpdateSchedule moves it. */
  modifiedAt: string;
}

export interface ScheduleStore {
  /** The schedule, or undefined when there is none by that name in the group. */
  get(name: string): Promise<RotationSchedule | undefined>;
  /** The names of every schedule in the group (all pages). */
  listNames(): Promise<string[]>;
  /** Every schedule of the group as ListSchedules summarises it (all pages, 100 a call). */
  listSummaries(): Promise<ScheduleSummary[]>;
  /** Throws `ScheduleExistsError` when the name is taken. */
  create(schedule: RotationSchedule): Promise<void>;
  /** Replaces every field (UpdateSchedule is a full PUT); throws `ScheduleNotFoundError`. */
  update(schedule: RotationSchedule): Promise<void>;
  /** Idempotent: deleting a schedule that is gone is done. */
  delete(name: string): Promise<void>;
}
