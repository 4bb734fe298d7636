import type { ManualTask } from "../../src/core/model";
import type { ManualTasks } from "../../src/core/ports";
import { copy } from "./copy";

/** The `ManualTasks` port in memory, with DynamoDB's conditional semantics (the same contract suite). */
export class InMemoryManualTasks implements ManualTasks {
  private readonly tasks = new Map<string, ManualTask>();

  async get(taskId: string): Promise<ManualTask | undefined> {
    const t = this.tasks.get(taskId);
    return t ? copy(t) : undefined;
  }
  async open(task: ManualTask): Promise<ManualTask> {
    const t = this.tasks.get(task.taskId);
    if (!t) {
      this.tasks.set(task.taskId, copy(task));
      return copy(task);
    }
    if (t.status === "expired") {
      t.status = "open";
      delete t.doneAt;
    }
    if (t.status === "open" || t.status === "claimed") {
      t.taskToken = task.taskToken;
      t.deadline = task.deadline;
    }
    return copy(t);
  }
  async claim(taskId: string, claim: { by: string; at: Date; until: Date }): Promise<ManualTask> {
    const t = this.must(taskId);
    const lapsed = t.status === "claimed" && (t.claim?.until ?? "") < claim.at.toISOString();
    if (t.status === "open" || lapsed) {
      t.status = "claimed";
      t.claim = { by: claim.by, until: claim.until.toISOString() };
    }
    return copy(t);
  }
  async refuse(taskId: string, refusal: { by: string; at: Date; reason: string }): Promise<ManualTask> {
    const t = this.must(taskId);
    if (t.status === "claimed" && t.claim?.by === refusal.by) {
      t.status = "open";
      delete t.claim;
      t.refusals = [
        ...(t.refusals ?? []),
        { by: refusal.by, at: refusal.at.toISOString(), reason: refusal.reason },
      ];
    }
    return copy(t);
  }
  async complete(taskId: string, done: { by: string; at: Date }): Promise<ManualTask> {
    const t = this.must(taskId);
    if (t.status === "claimed" && t.claim?.by === done.by) {
      t.status = "done";
      delete t.claim;
      t.doneBy = done.by;
      t.doneAt = done.at.toISOString();
    }
    return copy(t);
  }
  async expire(taskId: string, at: Date): Promise<ManualTask> {
    const t = this.must(taskId);
    if (t.status === "open" || t.status === "claimed") {
      t.status = "expired";
      delete t.claim;
      t.doneAt = at.toISOString();
    }
    return copy(t);
  }
  async noteReminder(taskId: string, count: number): Promise<boolean> {
    const t = this.must(taskId);
    if ((t.reminders ?? 0) >= count) return false;
    t.reminders = count;
    return true;
  }
  async listOpen(): Promise<ManualTask[]> {
    return [...this.tasks.values()]
      .filter((t) => t.status === "open" || t.status === "claimed")
      .sort((a, b) => a.openedAt.localeCompare(b.openedAt))
      .map((t) => copy(t));
  }
  /** Every task in any status (the simulation's oracles and leak scan read them raw). */
  all(): ManualTask[] {
    return [...this.tasks.values()].map((t) => copy(t));
  }
  private must(taskId: string): ManualTask {
    const t = this.tasks.get(taskId);
    if (!t) throw new Error(`manual task ${taskId} does not exist`);
    return t;
  }
}
