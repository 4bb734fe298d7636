import { randomBytes } from "node:crypto";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The errors Step Functions answers SendTaskSuccess/SendTaskFailure with (API reference, "Errors"). */
export type TokenRefusal = {
  type: "InvalidToken" | "InvalidOutput" | "TaskTimedOut" | "TaskDoesNotExist";
  message: string;
};

interface Waiting {
  resolve(output: Json): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
}

/** The error a waiting state fails with when its token is answered with SendTaskFailure. */
export class TaskFailedError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/**
 * The task tokens of `.waitForTaskToken` states in the local stack (aws-local-stepfunctions has no
 * callback pattern): the runner issues a token when a waiting state is entered and waits on it;
 * the local Step Functions API answers SendTaskSuccess/SendTaskFailure through it, with the real
 * service's refusals — an unknown token is `InvalidToken`, one already answered or past its
 * state's timeout `TaskTimedOut` ("The task token has either expired or the task associated with
 * the token has already been closed"), one whose execution stopped `TaskDoesNotExist`.
 */
export class LocalTaskTokens {
  private readonly waiting = new Map<string, Waiting>();
  private readonly closed = new Map<string, "answered" | "timed-out" | "stopped">();

  /** A fresh token (opaque, like the service's) and the answer it will get. */
  issue(timeoutSeconds?: number): { token: string; answer: Promise<Json> } {
    const token = `AQ${randomBytes(96).toString("base64url")}`;
    const answer = new Promise<Json>((resolve, reject) => {
      const entry: Waiting = { resolve, reject };
      if (timeoutSeconds !== undefined) {
        // The state's own timeout (TimeoutSecondsPath) fails the state in the engine; from then on
        // the token is closed, whoever answers it.
        entry.timer = setTimeout(() => this.close(token, "timed-out"), timeoutSeconds * 1000);
        entry.timer.unref();
      }
      this.waiting.set(token, entry);
    });
    // The engine may stop racing this promise (a timeout): never an unhandled rejection.
    answer.catch(() => undefined);
    return { token, answer };
  }

  succeed(token: string, output: string): TokenRefusal | undefined {
    const entry = this.take(token);
    if ("type" in entry) return entry;
    let parsed: Json;
    try {
      parsed = JSON.parse(output) as Json;
    } catch {
      this.waiting.set(token, entry);
      this.closed.delete(token);
      return { type: "InvalidOutput", message: "The provided JSON output data is not valid" };
    }
    entry.resolve(parsed);
    return undefined;
  }

  fail(token: string, error: string, cause: string): TokenRefusal | undefined {
    const entry = this.take(token);
    if ("type" in entry) return entry;
    entry.reject(new TaskFailedError(error || "States.TaskFailed", cause));
    return undefined;
  }

  /** The execution stopped (failed elsewhere, or the engine gave up): its tokens no longer exist. */
  stop(token: string): void {
    this.close(token, "stopped");
  }

  private take(token: string): Waiting | TokenRefusal {
    const entry = this.waiting.get(token);
    if (entry) {
      this.waiting.delete(token);
      if (entry.timer) clearTimeout(entry.timer);
      this.closed.set(token, "answered");
      return entry;
    }
    const closed = this.closed.get(token);
    if (closed === "stopped") return { type: "TaskDoesNotExist", message: "Task does not exist anymore" };
    if (closed) {
      return {
        type: "TaskTimedOut",
        message:
          "Task Timed Out: the task token has either expired or the task associated with the token has already been closed",
      };
    }
    return { type: "InvalidToken", message: "Invalid Token: the provided token is not valid" };
  }

  private close(token: string, why: "timed-out" | "stopped"): void {
    const entry = this.waiting.get(token);
    if (!entry) return;
    this.waiting.delete(token);
    if (entry.timer) clearTimeout(entry.timer);
    this.closed.set(token, why);
    entry.reject(new TaskFailedError("States.Timeout", "the state's timeout passed"));
  }
}

/** One per process, like the one local Step Functions: the runner issues, the API answers. */
export const localTaskTokens = new LocalTaskTokens();
