/**
 * Manual key management (issue 17): the tasks the workflow waits on while a person makes or deletes
 * a key in an exchange's web UI. Opening a task records what to do (never a key value) and alerts;
 * the person's answer (`provide.ts`, `confirm.ts`) resumes the execution through its task token.
 */
import { type Deps, requireSettings } from "../deps";
import { RotationStateError } from "../errors";
import type { KeyRequest, ManualTask, ManualTaskKind, SecretSettings } from "../model";
import { STAGE } from "../model";
import type { ManualTasks, TaskCallbacks } from "../ports";
import { holdLock } from "../rotation/lock";
import { ledgerEntryId, versionTokenFor } from "../tokens";
import { deletionTaskId, taskIdFor } from "./ids";

export { deletionTaskId, taskIdFor } from "./ids";

/** What the manual steps need beyond the rotation's own ports. */
export type ManualDeps = Pick<
  Deps,
  "secrets" | "store" | "lock" | "ledger" | "exchange" | "audit" | "alerts" | "clock" | "egressIps"
> & { tasks: ManualTasks; callbacks: TaskCallbacks };

/** An operator's answer is checked under a claim this long (a holder that died frees the task after it). */
export const ANSWER_CLAIM_SECONDS = 300;

export interface OpenTaskInput {
  secretId: string;
  rotationId: string;
  execution?: string | undefined;
  kind: ManualTaskKind;
  taskToken: string;
  /** How long the state waits (its TimeoutSecondsPath): the task's deadline. */
  timeoutSeconds: number;
}

export interface OpenTaskOutput {
  taskId: string;
  /** `waiting`: a person must act. `answered`: already done; the execution was resumed at once. */
  state: "waiting" | "answered";
}

/**
 * The step in front of a waiting state (`AwaitManualKey`, `AwaitManualDeletion`). The lock must be
 * this execution's. When what the task asks for is already done (the key provided and stored as
 * AWSPENDING, the key confirmed deleted) the execution is resumed at once; otherwise the task is
 * opened (or, entered again, given the new token and deadline), audited and alerted.
 */
export async function openManualTask(input: OpenTaskInput, deps: ManualDeps): Promise<OpenTaskOutput> {
  const settings = await requireSettings(deps.store, input.secretId);
  await holdLock(deps, input, settings);
  const now = deps.clock.now();
  const base = {
    secretId: input.secretId,
    rotationId: input.rotationId,
    exchangeAccount: settings.exchangeAccount,
    exchange: (await deps.exchange.capabilities(settings.exchangeAccount)).exchange,
    status: "open" as const,
    taskToken: input.taskToken,
    openedAt: now.toISOString(),
    deadline: new Date(now.getTime() + input.timeoutSeconds * 1000).toISOString(),
  };
  const task =
    input.kind === "create-key"
      ? await createTaskOf(input, base, deps)
      : await deleteTaskOf(input, settings, base, deps);
  if ("answered" in task) {
    const taskId = task.answered;
    await deps.callbacks.succeed(input.taskToken, { taskId, answered: "before-opening" });
    return { taskId, state: "answered" };
  }
  const opened = await deps.tasks.open(task);
  if (opened.status === "done") {
    await deps.callbacks.succeed(input.taskToken, { taskId: opened.taskId, answered: opened.doneBy ?? "" });
    return { taskId: opened.taskId, state: "answered" };
  }
  await announce(opened, deps);
  return { taskId: opened.taskId, state: "waiting" };
}

type TaskBase = Omit<ManualTask, "taskId" | "kind">;

async function createTaskOf(
  input: OpenTaskInput,
  base: TaskBase,
  deps: ManualDeps,
): Promise<ManualTask | { answered: string }> {
  const taskId = taskIdFor("create-key", input.rotationId);
  if (await ownPendingExists(deps, input.secretId, input.rotationId)) return { answered: taskId };
  return {
    ...base,
    taskId,
    kind: "create-key",
    request: await recordedRequest(input, deps),
  };
}

async function deleteTaskOf(
  input: OpenTaskInput,
  settings: SecretSettings,
  base: TaskBase,
  deps: ManualDeps,
): Promise<ManualTask | { answered: string }> {
  const rotation = await deps.store.getRotation(input.secretId, input.rotationId);
  const previous = rotation?.previous;
  if (!previous)
    throw new RotationStateError(`rotation ${input.rotationId} of ${input.secretId} has no previous key`);
  const entryId = ledgerEntryId(settings.exchangeAccount, previous.exchangeKeyId);
  const entry = await deps.ledger.get(entryId);
  // The id of the deletion task is the entry's, not the rotation's (an abort or the sweeper may ask too).
  if (entry?.status === "revoked") return { answered: deletionTaskId(entryId) };
  if (entry?.status !== "awaiting-operator") {
    throw new RotationStateError(
      `ledger entry ${entryId} is ${entry?.status ?? "missing"}, not awaiting-operator: nothing for a person to delete`,
    );
  }
  return {
    ...base,
    taskId: deletionTaskId(entryId),
    kind: "delete-key",
    keyId: previous.exchangeKeyId,
    entryId,
  };
}

/** What CreateNext asked for (it alone reads the replaced key, and recorded the request on the rotation). */
async function recordedRequest(input: OpenTaskInput, deps: ManualDeps): Promise<KeyRequest> {
  const rotation = await deps.store.getRotation(input.secretId, input.rotationId);
  if (!rotation?.manualRequest) {
    throw new RotationStateError(
      `rotation ${input.rotationId} of ${input.secretId} records no key request: CreateNext asks for the key before a task is opened`,
    );
  }
  return rotation.manualRequest;
}

/** This rotation's own AWSPENDING version exists: a key was provided (and stored) already. */
export async function ownPendingExists(
  deps: Pick<Deps, "secrets">,
  secretId: string,
  rotationId: string,
): Promise<boolean> {
  // Labels only (ListSecretVersionIds): a version's id is the ClientRequestToken it was stored with.
  const token = versionTokenFor(rotationId);
  const versions = await deps.secrets.listVersions(secretId);
  return versions.some((v) => v.versionId === token && v.stages.includes(STAGE.next));
}

async function announce(task: ManualTask, deps: Pick<Deps, "audit" | "alerts">): Promise<void> {
  const what = instructionOf(task);
  // A deletion was alerted when it was asked for (deletion.ts, naming this task): audit only.
  await deps.audit.append({
    secretId: task.secretId,
    actor: `rotation:${task.rotationId}`,
    action: "manual-task-opened",
    details: {
      taskId: task.taskId,
      kind: task.kind,
      deadline: task.deadline,
      exchangeAccount: task.exchangeAccount,
    },
  });
  if (task.kind === "delete-key") return;
  await deps.alerts.send({
    kind: "manual-step",
    secretId: task.secretId,
    subject: `keyshift: a person must ${task.kind === "create-key" ? "make a key" : "delete a key"} on ${task.exchange} account ${task.exchangeAccount} by ${task.deadline}`,
    details: { taskId: task.taskId, kind: task.kind, deadline: task.deadline, instruction: what },
  });
}

/** The exact request, in words an operator follows at 3 a.m. (never a key value: there is none here). */
export function instructionOf(task: ManualTask): string {
  if (task.kind === "delete-key") {
    return (
      `Delete API key ${task.keyId} of ${task.exchange} account ${task.exchangeAccount} in the exchange's web UI ` +
      `(docs/exchanges.md, "${task.exchange}: manual steps"), then run \`keyshift keys confirm-deleted ${task.taskId}\`.`
    );
  }
  const r = task.request as KeyRequest;
  const ips = r.ipAllowlist.length > 0 ? r.ipAllowlist.join(", ") : "none (the replaced key is unbound)";
  return (
    `Make a new API key on ${task.exchange} account ${task.exchangeAccount} named "${r.label}" with exactly these ` +
    `permissions: ${r.permissions.join(", ")}; IP allow-list: ${ips}. Save the key and its private key to a file ` +
    `({"keyId":"…","secret":"…"}) only you can read, then run \`keyshift keys provide ${task.taskId} --from-file <file>\` ` +
    `(or --stdin) before ${task.deadline}, and delete the file.`
  );
}
