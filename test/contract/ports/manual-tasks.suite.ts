/**
 * The `ManualTasks` port (issue 17): a task a person answers; every transition conditional, so of
 * two operators answering one task exactly one claim lands; a lapsed claim can be taken over.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { ManualTask } from "../../../src/core/model";
import type { ManualTasks } from "../../../src/core/ports";
import { at, iso, type PortTarget } from "./support";

export function manualTasksContract(target: PortTarget<ManualTasks>): void {
  describe(`ManualTasks (${target.name})`, () => {
    let tasks: ManualTasks;
    beforeEach(() => {
      tasks = target.make();
    });
    const taskOf = (label: string, overrides: Partial<ManualTask> = {}): ManualTask => ({
      taskId: target.id(label),
      kind: "create-key",
      secretId: `keyshift/exchange/${label}`,
      rotationId: "rot-1",
      exchangeAccount: "kraken-main",
      exchange: "kraken",
      status: "open",
      taskToken: "token-1",
      openedAt: iso(0),
      deadline: iso(3600),
      request: { label: "ks_abc", permissions: ["query-funds"], ipAllowlist: [], egressIps: ["10.0.0.1"] },
      ...overrides,
    });

    it("opens a task and reads it back; entering the state again gives the open task the new token", async () => {
      const task = taskOf("open");
      await tasks.open(task);
      expect(await tasks.get(task.taskId)).toEqual(task);

      const again = await tasks.open({
        ...task,
        taskToken: "token-2",
        deadline: iso(7200),
        openedAt: iso(60),
      });

      expect(again).toMatchObject({ taskToken: "token-2", deadline: iso(7200), openedAt: iso(0) });
    });

    it("of two operators claiming one task exactly one wins; the loser sees the winner's claim", async () => {
      const task = taskOf("race");
      await tasks.open(task);

      const [a, b] = await Promise.all([
        tasks.claim(task.taskId, { by: "operator:a", at: at(10), until: at(70) }),
        tasks.claim(task.taskId, { by: "operator:b", at: at(10), until: at(70) }),
      ]);

      const winners = [a, b].filter((t, i) => t.claim?.by === ["operator:a", "operator:b"][i]);
      expect(winners).toHaveLength(1);
      expect(a.claim).toEqual(b.claim);
    });

    it("a live claim holds; a lapsed one is taken over", async () => {
      const task = taskOf("lapse");
      await tasks.open(task);
      await tasks.claim(task.taskId, { by: "operator:a", at: at(10), until: at(70) });

      expect(
        (await tasks.claim(task.taskId, { by: "operator:b", at: at(60), until: at(120) })).claim?.by,
      ).toBe("operator:a");
      expect(
        (await tasks.claim(task.taskId, { by: "operator:b", at: at(71), until: at(131) })).claim?.by,
      ).toBe("operator:b");
    });

    it("a refusal by the claim holder re-opens the task and keeps the reason; a stranger's does nothing", async () => {
      const task = taskOf("refuse");
      await tasks.open(task);
      await tasks.claim(task.taskId, { by: "operator:a", at: at(10), until: at(70) });

      const stranger = await tasks.refuse(task.taskId, { by: "operator:b", at: at(20), reason: "x" });
      expect(stranger.status).toBe("claimed");
      const refused = await tasks.refuse(task.taskId, {
        by: "operator:a",
        at: at(20),
        reason: "wrong scope",
      });

      expect(refused.status).toBe("open");
      expect(refused.claim).toBeUndefined();
      expect(refused.refusals).toEqual([{ by: "operator:a", at: iso(20), reason: "wrong scope" }]);
    });

    it("complete needs the claim; done and expired are final", async () => {
      const task = taskOf("done");
      await tasks.open(task);
      expect((await tasks.complete(task.taskId, { by: "operator:a", at: at(5) })).status).toBe("open");
      await tasks.claim(task.taskId, { by: "operator:a", at: at(10), until: at(70) });

      const done = await tasks.complete(task.taskId, { by: "operator:a", at: at(20) });

      expect(done).toMatchObject({ status: "done", doneBy: "operator:a", doneAt: iso(20) });
      expect((await tasks.expire(task.taskId, at(30))).status).toBe("done");
      expect((await tasks.claim(task.taskId, { by: "operator:b", at: at(40), until: at(99) })).status).toBe(
        "done",
      );
      expect((await tasks.open({ ...task, taskToken: "token-9" })).taskToken).toBe("token-1");
    });

    it("an expired task is opened again when the workflow enters its state again (resume after a stall)", async () => {
      const task = taskOf("reopen");
      await tasks.open(task);
      await tasks.expire(task.taskId, at(10));

      const again = await tasks.open({ ...task, taskToken: "token-2", deadline: iso(9000) });

      expect(again).toMatchObject({ status: "open", taskToken: "token-2", deadline: iso(9000) });
      expect(again.doneAt).toBeUndefined();
    });

    it("expire closes an open or claimed task; listOpen shows only open and claimed ones, oldest first", async () => {
      const first = taskOf("list-1", { openedAt: iso(1) });
      const second = taskOf("list-2", { openedAt: iso(2) });
      const third = taskOf("list-3", { openedAt: iso(3) });
      for (const t of [third, first, second]) await tasks.open(t);
      await tasks.claim(second.taskId, { by: "operator:a", at: at(10), until: at(70) });
      expect((await tasks.expire(third.taskId, at(20))).status).toBe("expired");

      const ids = (await tasks.listOpen())
        .map((t) => t.taskId)
        .filter((id) => [first, second, third].some((t) => t.taskId === id));

      expect(ids).toEqual([first.taskId, second.taskId]);
    });

    it("reminders only count upwards, and of two notes of one step exactly one is told it raised it", async () => {
      const task = taskOf("remind");
      await tasks.open(task);
      const raised = await Promise.all([
        tasks.noteReminder(task.taskId, 2),
        tasks.noteReminder(task.taskId, 2),
      ]);
      expect(raised.filter(Boolean)).toHaveLength(1);
      expect(await tasks.noteReminder(task.taskId, 1)).toBe(false);
      expect((await tasks.get(task.taskId))?.reminders).toBe(2);
    });
  });
}
