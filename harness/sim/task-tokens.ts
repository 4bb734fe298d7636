/**
 * The task tokens of `.waitForTaskToken` states in the simulation: Step Functions' side of the
 * callback pattern, on the virtual clock. A token is issued per attempt of a waiting state (seeded),
 * answered at most once (SendTaskSuccess / SendTaskFailure), closed when its state times out or its
 * attempt failed; an answer to a closed or unknown token is `gone` (TaskTimedOut / InvalidToken).
 * Every accepted SendTaskSuccess is recorded with who sent it: the oracles count them per task.
 */
import type { TaskCallbacks } from "../../src/core/ports";
import { type Json, StatesError } from "./jsonpath";
import type { Rng } from "./rng";
import type { Scheduler } from "./scheduler";

type Outcome = { output: Json } | { error: string; cause: string };

interface TokenEntry {
  execution: string;
  state: string;
  status: "waiting" | "answered" | "timed-out" | "stopped";
  outcome?: Outcome;
  wake?: () => void;
}

/** One SendTaskSuccess the service accepted: it resumed the execution. */
export interface AcceptedAnswer {
  token: string;
  execution: string;
  state: string;
  /** `output.taskId` of the answer (every keyshift answer names its task). */
  taskId?: string;
  by: string;
  at: number;
}

/** A waiting state with no timeout waits as long as the service lets a task run: a year. */
const NO_TIMEOUT_SECONDS = 365 * 24 * 3600;

export class SimTaskTokens {
  private readonly entries = new Map<string, TokenEntry>();
  readonly accepted: AcceptedAnswer[] = [];
  /** Answers refused as `gone`, by reason (a late or second answer is answered clearly). */
  readonly gone: Record<string, number> = {};
  readonly timedOut: string[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly sched: Scheduler,
    private readonly now: () => number,
  ) {}

  issue(execution: string, state: string): string {
    const token = `AQtok${this.rng.hex(32)}`;
    this.entries.set(token, { execution, state, status: "waiting" });
    return token;
  }

  answer(token: string, outcome: Outcome, by: string): "sent" | "gone" {
    const entry = this.entries.get(token);
    if (entry?.status !== "waiting") {
      const why = entry ? entry.status : "unknown";
      this.gone[why] = (this.gone[why] ?? 0) + 1;
      return "gone";
    }
    entry.status = "answered";
    entry.outcome = outcome;
    if ("output" in outcome) {
      const o = outcome.output;
      const taskId =
        o !== null && typeof o === "object" && !Array.isArray(o) && typeof o.taskId === "string"
          ? o.taskId
          : undefined;
      this.accepted.push({
        token,
        execution: entry.execution,
        state: entry.state,
        ...(taskId ? { taskId } : {}),
        by,
        at: this.now(),
      });
    }
    entry.wake?.();
    return "sent";
  }

  close(token: string, why: "timed-out" | "stopped"): void {
    const entry = this.entries.get(token);
    if (entry?.status === "waiting") entry.status = why;
  }

  /** The execution's side: resolves with the output, or rejects (SendTaskFailure, States.Timeout). */
  async await(actor: string, token: string, timeoutSeconds: number | undefined): Promise<Json> {
    const entry = this.entries.get(token);
    if (!entry) throw new StatesError("States.Runtime", `no task token ${token.slice(0, 8)}…`, false);
    if (entry.status === "waiting") {
      const seconds = Math.max(0, timeoutSeconds ?? NO_TIMEOUT_SECONDS);
      const { done, wake } = this.sched.sleepOrWake(actor, seconds, `await task token (${entry.state})`);
      entry.wake = wake;
      await done;
      entry.wake = undefined;
    }
    const outcome = entry.outcome;
    if (entry.status !== "answered" || !outcome) {
      this.close(token, "timed-out");
      this.timedOut.push(entry.state);
      throw new StatesError(
        "States.Timeout",
        `${entry.state}: no answer to the task token before its timeout`,
      );
    }
    if ("output" in outcome) return outcome.output;
    throw new StatesError(outcome.error, outcome.cause);
  }
}

/** `TaskCallbacks` over the simulation's tokens, as one caller (`by`) sends them. */
export class SimTaskCallbacks implements TaskCallbacks {
  constructor(
    private readonly tokens: SimTaskTokens,
    private readonly by: string,
  ) {}

  async succeed(taskToken: string, output: Record<string, unknown>): Promise<"sent" | "gone"> {
    return this.tokens.answer(taskToken, { output: JSON.parse(JSON.stringify(output)) as Json }, this.by);
  }

  async fail(taskToken: string, error: string, cause: string): Promise<"sent" | "gone"> {
    return this.tokens.answer(taskToken, { error, cause }, this.by);
  }
}
