import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { ManualTask } from "../../core/model";
import type { ManualTasks } from "../../core/ports";
import { isConditionFailed, queryAll, strip } from "./client";
import { updateOrReread } from "./conditional-update";

/** All tasks share one partition of the rotations table: few, small, and listed together. */
export const TASKS_PARTITION = "#manual-tasks";
const skOf = (taskId: string) => `TASK#${taskId}`;

/**
 * Manual tasks (issue 17) in the rotations table, partition `#manual-tasks`, sk `TASK#<taskId>`.
 * Every transition is one conditional UpdateItem, so of two operators answering one task exactly
 * one claim lands.
 */
export class DynamoManualTasks implements ManualTasks {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(taskId: string): Promise<ManualTask | undefined> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { secretId: TASKS_PARTITION, sk: skOf(taskId) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async open(task: ManualTask): Promise<ManualTask> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: toItem(task),
          ConditionExpression: "attribute_not_exists(sk)",
        }),
      );
      return task;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    // Entered again (a retry, a resume): the task waits on the new token and deadline; one that
    // expired (nobody answered in time, the rotation stalled, then resumed) is open again.
    const values = { ":token": task.taskToken, ":deadline": task.deadline };
    const live = await this.update(
      task.taskId,
      "SET taskToken = :token, deadline = :deadline",
      "#s IN (:open, :claimed)",
      { ...values, ":open": "open", ":claimed": "claimed" },
    );
    if (live.status !== "expired") return live;
    return this.update(
      task.taskId,
      "SET #s = :open, taskToken = :token, deadline = :deadline REMOVE doneAt",
      "#s = :expired",
      { ...values, ":open": "open", ":expired": "expired" },
    );
  }

  claim(taskId: string, claim: { by: string; at: Date; until: Date }): Promise<ManualTask> {
    return this.update(
      taskId,
      "SET #s = :claimed, #claim = :claim",
      "#s = :open OR (#s = :claimed AND #claim.#until < :now)",
      {
        ":claimed": "claimed",
        ":open": "open",
        ":now": claim.at.toISOString(),
        ":claim": { by: claim.by, until: claim.until.toISOString() },
      },
    );
  }

  refuse(taskId: string, refusal: { by: string; at: Date; reason: string }): Promise<ManualTask> {
    return this.update(
      taskId,
      "SET #s = :open, refusals = list_append(if_not_exists(refusals, :none), :refusal) REMOVE #claim",
      "#s = :claimed AND #claim.#by = :by",
      {
        ":open": "open",
        ":claimed": "claimed",
        ":by": refusal.by,
        ":none": [],
        ":refusal": [{ by: refusal.by, at: refusal.at.toISOString(), reason: refusal.reason }],
      },
    );
  }

  complete(taskId: string, done: { by: string; at: Date }): Promise<ManualTask> {
    return this.update(
      taskId,
      "SET #s = :done, doneBy = :by, doneAt = :at REMOVE #claim",
      "#s = :claimed AND #claim.#by = :by",
      { ":done": "done", ":claimed": "claimed", ":by": done.by, ":at": done.at.toISOString() },
    );
  }

  expire(taskId: string, at: Date): Promise<ManualTask> {
    return this.update(taskId, "SET #s = :expired, doneAt = :at REMOVE #claim", "#s IN (:open, :claimed)", {
      ":expired": "expired",
      ":open": "open",
      ":claimed": "claimed",
      ":at": at.toISOString(),
    });
  }

  async noteReminder(taskId: string, count: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { secretId: TASKS_PARTITION, sk: skOf(taskId) },
          UpdateExpression: "SET reminders = :count",
          ConditionExpression:
            "attribute_exists(sk) AND (attribute_not_exists(reminders) OR reminders < :count)",
          ExpressionAttributeValues: { ":count": count },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async listOpen(): Promise<ManualTask[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "secretId = :p AND begins_with(sk, :t)",
      FilterExpression: "#s IN (:open, :claimed)",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: {
        ":p": TASKS_PARTITION,
        ":t": "TASK#",
        ":open": "open",
        ":claimed": "claimed",
      },
      ConsistentRead: true,
    });
    return items.map(fromItem).sort((a, b) => a.openedAt.localeCompare(b.openedAt));
  }

  private async update(
    taskId: string,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<ManualTask> {
    return updateOrReread(this.db, {
      table: this.table,
      key: { secretId: TASKS_PARTITION, sk: skOf(taskId) },
      existing: "sk",
      expression,
      condition,
      names: NAMES,
      values,
      fromItem,
      reread: async () => {
        const current = await this.get(taskId);
        if (!current) throw new Error(`manual task ${taskId} does not exist`);
        return current;
      },
    });
  }
}

const NAMES: Record<string, string> = { "#s": "status", "#claim": "claim", "#until": "until", "#by": "by" };

function toItem(task: ManualTask): Record<string, unknown> {
  return { ...task, secretId: TASKS_PARTITION, taskSecretId: task.secretId, sk: skOf(task.taskId) };
}

function fromItem(item: Record<string, unknown>): ManualTask {
  const { taskSecretId, ...rest } = item;
  return strip<ManualTask>({ ...rest, secretId: taskSecretId }, "sk");
}
