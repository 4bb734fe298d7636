import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from "@aws-sdk/client-sfn";
import type { TaskCallbacks } from "../core/ports";

/**
 * What Step Functions answers when nothing waits on a token any more: the state timed out
 * (`TaskTimedOut`, also for a token already answered), the token is malformed or from another
 * account (`InvalidToken`), or its execution or activity is gone (`TaskDoesNotExist`) — the
 * SendTaskSuccess API reference's error list.
 */
const GONE = new Set(["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"]);

/** The answer to a waiting execution (`.waitForTaskToken`), through the Step Functions API. */
export class StepFunctionsTaskCallbacks implements TaskCallbacks {
  constructor(private readonly sfn: SFNClient) {}

  async succeed(taskToken: string, output: Record<string, unknown>): Promise<"sent" | "gone"> {
    return this.send(() =>
      this.sfn.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })),
    );
  }

  async fail(taskToken: string, error: string, cause: string): Promise<"sent" | "gone"> {
    return this.send(() =>
      this.sfn.send(
        new SendTaskFailureCommand({ taskToken, error: error.slice(0, 256), cause: cause.slice(0, 32768) }),
      ),
    );
  }

  private async send(call: () => Promise<unknown>): Promise<"sent" | "gone"> {
    try {
      await call();
      return "sent";
    } catch (err) {
      if (err instanceof Error && GONE.has(err.name)) return "gone";
      throw err;
    }
  }
}
