import { SCHEDULE_NAME, type ScheduleDeployment } from "../core/enrollment/schedule-spec";
import type { ScheduleStore } from "../core/ports";
import { stateMachineArnOf } from "./commands/rotate";
import { ConfigError } from "./output";

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]+$/;
const QUEUE_ARN = /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}$/;

/** A variable of the stage, checked, or the configuration error that names the stack output to copy. */
function required(env: NodeJS.ProcessEnv, name: string, output: string, valid: RegExp, what: string): string {
  const value = env[name] ?? "";
  if (valid.test(value)) return value;
  throw new ConfigError(
    `${what} needs ${name} (the stack output ${output}), got ${value ? JSON.stringify(value.slice(0, 200)) : "nothing"}`,
  );
}

/** Where the rotation schedules live and what they call: the stage's stack outputs. */
export interface ScheduleContext {
  schedules: ScheduleStore;
  /** The schedule group's name (KEYSHIFT_SCHEDULE_GROUP). */
  group: string;
  deployment: ScheduleDeployment;
  close(): void;
}

/**
 * The schedule group and the target every schedule gets, from the stage's variables, checked: a
 * missing or malformed one is a configuration error naming the stack output to copy. Synchronous,
 * so a Lambda can refuse to start without them (functions/hygiene-audit.ts).
 */
export function scheduleSettingsOf(
  env: NodeJS.ProcessEnv,
  what: string,
): { group: string; deployment: ScheduleDeployment } {
  const group = required(env, "KEYSHIFT_SCHEDULE_GROUP", "RotationScheduleGroupName", SCHEDULE_NAME, what);
  const deployment = {
    stateMachineArn: stateMachineArnOf(env, what),
    roleArn: required(env, "KEYSHIFT_SCHEDULER_ROLE_ARN", "RotationSchedulerRoleArn", ROLE_ARN, what),
    deadLetterArn: required(env, "KEYSHIFT_SCHEDULE_DLQ_ARN", "ScheduleDeadLetterQueueArn", QUEUE_ARN, what),
  };
  return { group, deployment };
}

/**
 * The schedule group on EventBridge Scheduler (KEYSHIFT_ENDPOINT_SCHEDULER: the local stack's
 * emulator) and the target every schedule gets. The SDK is loaded only by a command that needs it.
 */
export async function scheduleContext(env: NodeJS.ProcessEnv, what: string): Promise<ScheduleContext> {
  const { group, deployment } = scheduleSettingsOf(env, what);
  const { SchedulerClient } = await import("@aws-sdk/client-scheduler");
  const { SchedulerScheduleStore } = await import("../adapters/scheduler");
  const client = new SchedulerClient({ region: env.AWS_REGION, endpoint: env.KEYSHIFT_ENDPOINT_SCHEDULER });
  return {
    schedules: new SchedulerScheduleStore(client, group),
    group,
    deployment,
    close: () => client.destroy(),
  };
}
