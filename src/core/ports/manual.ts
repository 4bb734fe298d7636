/** Ports of manual key management (issue 17): the task records and the workflow's callback. */
import type { ManualTask } from "../model";

/**
 * Tasks a person answers. Every transition is conditional, so of two operators answering one task
 * exactly one wins; a refused transition returns the task as it stands.
 */
export interface ManualTasks {
  get(taskId: string): Promise<ManualTask | undefined>;
  /**
   * Opens the task, or — when the workflow entered its state again (a retry, a resume) — gives the
   * task the new token and deadline (an `expired` one is open again). A `done` task is returned unchanged.
   */
  open(task: ManualTask): Promise<ManualTask>;
  /** open (or claimed with a lapsed lease) -> claimed by `by` until `until`. Claimed iff the result's `claim.by` is `by`. */
  claim(taskId: string, claim: { by: string; at: Date; until: Date }): Promise<ManualTask>;
  /** claimed by `by` -> open, recording why the answer was refused. */
  refuse(taskId: string, refusal: { by: string; at: Date; reason: string }): Promise<ManualTask>;
  /** claimed by `by` -> done. */
  complete(taskId: string, done: { by: string; at: Date }): Promise<ManualTask>;
  /** open|claimed -> expired (the execution stopped waiting, or the deadline passed). */
  expire(taskId: string, at: Date): Promise<ManualTask>;
  /**
   * Reminder `count` is about to be sent: `reminders` becomes `count`, only upwards. True iff this
   * call raised it (of two sweepers noting the same step, one gets true and sends it).
   */
  noteReminder(taskId: string, count: number): Promise<boolean>;
  /** Open and claimed tasks, oldest first. */
  listOpen(): Promise<ManualTask[]>;
}

/**
 * The answer to a waiting execution (Step Functions `SendTaskSuccess`/`SendTaskFailure`). `gone`:
 * the token expired, was already answered, or its execution stopped (`TaskTimedOut`,
 * `InvalidToken`, `TaskDoesNotExist`): nothing waits on it any more.
 */
export interface TaskCallbacks {
  succeed(taskToken: string, output: Record<string, unknown>): Promise<"sent" | "gone">;
  fail(taskToken: string, error: string, cause: string): Promise<"sent" | "gone">;
}
