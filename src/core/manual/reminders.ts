import type { Deps } from "../deps";
import type { ManualTasks } from "../ports";
import { instructionOf } from "./tasks";

/**
 * When a task still open is reminded about, counted from its opening: an hour, four hours, a day,
 * then every day. The first alert went out when it was opened.
 */
export const REMINDER_AFTER_HOURS: readonly number[] = [1, 4, 24];
const DAILY_HOURS = 24;

/** How many reminders a task opened at `openedAt` is due at `now` (0: none yet). */
export function remindersDue(openedAt: string, now: Date): number {
  const hours = (now.getTime() - Date.parse(openedAt)) / 3_600_000;
  if (!(hours >= 0)) return 0;
  const fixed = REMINDER_AFTER_HOURS.filter((h) => hours >= h).length;
  const last = REMINDER_AFTER_HOURS.at(-1) ?? DAILY_HOURS;
  return fixed + (hours >= last + DAILY_HOURS ? Math.floor((hours - last) / DAILY_HOURS) : 0);
}

export interface RemindOutput {
  reminded: Array<{ taskId: string; reminder: number }>;
}

/**
 * Escalating reminders for manual tasks nobody has answered (run by the scheduled sweeper): one
 * alert per reminder step, recorded on the task first (a conditional update that only counts up,
 * so two sweepers never both send the same step), then sent. Past its deadline a task says so:
 * the rotation stalled and nothing is revoked until someone acts.
 */
export async function remindOverdueTasks(
  deps: Pick<Deps, "alerts" | "clock"> & { tasks: ManualTasks },
): Promise<RemindOutput> {
  const now = deps.clock.now();
  const reminded: RemindOutput["reminded"] = [];
  for (const task of await deps.tasks.listOpen()) {
    const due = remindersDue(task.openedAt, now);
    if (due <= (task.reminders ?? 0)) continue;
    if (!(await deps.tasks.noteReminder(task.taskId, due))) continue;
    const late = Date.parse(task.deadline) <= now.getTime();
    await deps.alerts.send({
      kind: "manual-step-overdue",
      secretId: task.secretId,
      subject:
        `keyshift: reminder ${due}: ${task.kind === "create-key" ? "a key to make" : `key ${task.keyId} to delete`} on ` +
        `${task.exchange} account ${task.exchangeAccount} since ${task.openedAt}` +
        (late ? " (PAST its deadline: the rotation stalled, nothing is revoked until someone acts)" : ""),
      details: {
        taskId: task.taskId,
        kind: task.kind,
        reminder: due,
        deadline: task.deadline,
        instruction: instructionOf(task),
      },
    });
    reminded.push({ taskId: task.taskId, reminder: due });
  }
  return { reminded };
}
