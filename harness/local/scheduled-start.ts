import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { SchedulerScheduleStore } from "../../src/adapters/scheduler";
import { rotationScheduleFor } from "../../src/core/enrollment/schedule-spec";
import type { LocalStack } from "./stack";
import { type ExecutionResult, type RunOptions, runRotation } from "./workflow-runner";

/** One emulated minute in two real seconds: the scheduled start comes within two seconds. */
const NPM_START_TIME_SCALE = 30;
const FIRE_TIMEOUT_MS = 30_000;

/** What `npm start` starts: the execution input (its `trigger` says how it is started). */
export interface StartInput {
  secretId: string;
  trigger: "manual" | "schedule";
  compromised?: boolean;
  reason?: string;
}

/**
 * `npm start`'s rotation: a `trigger: "manual"` input runs at once, as an operator's command would;
 * a `trigger: "schedule"` one is started the way AWS starts it. The secret's schedule is created on
 * the Scheduler emulator through keyshift's own adapter (`enroll` and `apply` do the same), due at
 * the next minute of the emulator's clock (compressed, `NPM_START_TIME_SCALE`); the emulator fires
 * StartExecution on the local Step Functions API as the scheduler role, with the input the schedule
 * carries, `{"secretId", "trigger": "schedule"}`. Resolves with that execution's result.
 */
export async function startRotation(
  stack: LocalStack,
  input: StartInput,
  opts: RunOptions,
  print: (line: string) => void,
): Promise<ExecutionResult> {
  if (input.trigger !== "schedule") return runRotation({ ...input }, opts);
  stack.scheduler.setTimeScale(NPM_START_TIME_SCALE);
  const due = new Date(Math.floor(stack.scheduler.now().getTime() / 60_000) * 60_000 + 60_000);
  const expression = `cron(${due.getUTCMinutes()} ${due.getUTCHours()} ${due.getUTCDate()} ${due.getUTCMonth() + 1} ? ${due.getUTCFullYear()})`;
  const client = new SchedulerClient({
    region: stack.region,
    endpoint: stack.endpoints.scheduler,
    credentials: {
      accessKeyId: stack.env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: stack.env.AWS_SECRET_ACCESS_KEY ?? "",
      sessionToken: stack.env.AWS_SESSION_TOKEN,
    },
  });
  try {
    const schedule = rotationScheduleFor(
      { secretId: input.secretId, schedule: expression, enabled: true },
      {
        stateMachineArn: stack.env.KEYSHIFT_STATE_MACHINE_ARN ?? "",
        roleArn: stack.env.KEYSHIFT_SCHEDULER_ROLE_ARN ?? "",
        deadLetterArn: stack.env.KEYSHIFT_SCHEDULE_DLQ_ARN ?? "",
      },
    );
    await new SchedulerScheduleStore(client, stack.env.KEYSHIFT_SCHEDULE_GROUP ?? "").create(schedule);
    print(
      `schedule ${schedule.name} created on EventBridge Scheduler (local, clock ${NPM_START_TIME_SCALE}x): ${expression} UTC`,
    );
    stack.stepFunctions.observe(opts.onEvent);
    const deadline = Date.now() + FIRE_TIMEOUT_MS;
    for (;;) {
      const fired = stack.scheduler.firings.find((f) => f.name === schedule.name);
      if (fired?.error) throw new Error(`the scheduled start of ${input.secretId} failed: ${fired.error}`);
      if (fired?.executionArn) {
        print(`scheduled start fired at ${fired.at} (emulator clock): ${fired.executionArn}`);
        const result = await stack.stepFunctions.finished(fired.executionArn);
        if (!result) throw new Error(`execution ${fired.executionArn} left no result`);
        return result;
      }
      if (Date.now() > deadline) throw new Error(`schedule ${schedule.name} did not fire within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    stack.stepFunctions.observe(undefined);
    client.destroy();
  }
}
