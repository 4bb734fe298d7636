import { describe, expect, it } from "vitest";
import { FakeClock, InMemoryAlerts, InMemoryManualTasks } from "../../harness/memory";
import { remindersDue, remindOverdueTasks } from "../../src/core/manual/reminders";
import type { ManualTask } from "../../src/core/model";

const T0 = "2030-01-01T00:00:00.000Z";
const hours = (h: number) => new Date(Date.parse(T0) + h * 3_600_000);

function task(overrides: Partial<ManualTask> = {}): ManualTask {
  return {
    taskId: "rm-0123456789",
    kind: "delete-key",
    secretId: "keyshift/exchange/k/trading",
    rotationId: "rot-1",
    exchangeAccount: "k",
    exchange: "kraken",
    status: "open",
    taskToken: "t",
    openedAt: T0,
    deadline: hours(72).toISOString(),
    keyId: "KEY1",
    entryId: "k#KEY1",
    ...overrides,
  };
}

describe("manual task reminders escalate until someone acts", () => {
  it("after 1 h, 4 h, 24 h, then daily", () => {
    expect([0.5, 1, 3.9, 4, 23, 24, 47.9, 48, 72, 96].map((h) => remindersDue(T0, hours(h)))).toEqual([
      0, 1, 1, 2, 2, 3, 3, 4, 5, 6,
    ]);
  });

  it("sends each step once, even when two sweepers run; says when the deadline passed", async () => {
    const tasks = new InMemoryManualTasks();
    await tasks.open(task());
    const alerts = new InMemoryAlerts();
    const clock = new FakeClock(hours(4.5).toISOString());

    const [a, b] = await Promise.all([
      remindOverdueTasks({ tasks, alerts, clock }),
      remindOverdueTasks({ tasks, alerts, clock }),
    ]);
    expect([...a.reminded, ...b.reminded]).toEqual([{ taskId: "rm-0123456789", reminder: 2 }]);
    expect((await remindOverdueTasks({ tasks, alerts, clock })).reminded).toEqual([]);

    clock.set(hours(80).toISOString());
    await remindOverdueTasks({ tasks, alerts, clock });
    const last = alerts.sent.at(-1);
    expect(last?.kind).toBe("manual-step-overdue");
    expect(last?.subject).toContain("PAST its deadline");
    expect(String(last?.details.instruction)).toContain("keyshift keys confirm-deleted rm-0123456789");
  });

  it("no reminder for answered tasks", async () => {
    const tasks = new InMemoryManualTasks();
    await tasks.open(task({ status: "done" }));
    const alerts = new InMemoryAlerts();
    expect(
      (await remindOverdueTasks({ tasks, alerts, clock: new FakeClock(hours(30).toISOString()) })).reminded,
    ).toEqual([]);
  });
});
