import { randomUUID } from "node:crypto";
import { sanitizeErrorMessage } from "../errors";
import { fingerprint } from "../fingerprint";
import type { ManualTask } from "../model";
import type { ExchangeKeyCredential } from "../ports";
import { versionTokenFor } from "../tokens";
import { ManualTaskRefusedError } from "./errors";
import { mismatchesOf, parseProvidedKey } from "./provided-key";
import { ANSWER_CLAIM_SECONDS, type ManualDeps } from "./tasks";

export interface ProvideInput {
  taskId: string;
  /** The key file's contents; never logged, never in an error, an audit entry or an alert. */
  keyText: string;
  /** The authenticated principal answering (`operator:<arn>`). */
  principal: string;
}

export interface ProvideOutput {
  taskId: string;
  secretId: string;
  keyId: string;
  fingerprint: string;
  /** `resumed`: the execution went on. `not-waiting`: it had stopped; `keyshift resume` uses the key. */
  workflow: "resumed" | "not-waiting";
  verified: "exchange" | "operator";
}

/**
 * `keyshift keys provide`: a person made the key a create-key task asked for and hands it over.
 * 1. The task must be an open create-key task before its deadline (past it: expired, and said so).
 * 2. Claim it (a conditional write: of two operators answering one task exactly one goes on).
 * 3. Check the key: it authenticates (a read-only call it signs, from where this runs: keyshift's
 *    egress), it is not a key the secret already holds, and where the exchange lets a key describe
 *    itself it is exactly what was asked (name, permissions, IP binding). A refusal re-opens the
 *    task with the reason (audited), and throws `ManualTaskRefusedError` naming it.
 * 4. Store it as the rotation's AWSPENDING version (the rotation's own token: a second store of the
 *    same key is a no-op), audit who provided it (fingerprint, never the value), close the task and
 *    resume the execution, whose CreateNext verifies the key again and records it.
 */
export async function provideKey(input: ProvideInput, deps: ManualDeps): Promise<ProvideOutput> {
  const key = parseProvidedKey(input.keyText);
  // Each answer claims as itself: two runs by one principal are two answers, and only one goes on.
  const by = answerOwner(input.principal);
  const task = await claimOpenTask(input.taskId, "create-key", by, deps);
  let verified: ProvideOutput["verified"];
  try {
    verified = await checkProvided(task, key, deps);
  } catch (err) {
    // Adapters never put a secret in a message; the provided one is masked anyway, belt and braces.
    const reason = sanitizeErrorMessage(err).split(key.secret).join("[value not shown]");
    await deps.tasks.refuse(task.taskId, { by, at: deps.clock.now(), reason });
    await deps.audit.append({
      secretId: task.secretId,
      actor: input.principal,
      action: "key-provided-refused",
      details: { taskId: task.taskId, keyId: key.keyId, reason },
    });
    throw new ManualTaskRefusedError(
      `key ${key.keyId} refused for task ${task.taskId}: ${reason}. The task stays open.`,
    );
  }
  const value = JSON.stringify({
    account: task.exchangeAccount,
    keyId: key.keyId,
    secret: key.secret,
    permissions: task.request?.permissions ?? [],
    ...(task.request && task.request.ipAllowlist.length > 0 ? { ipAllowlist: task.request.ipAllowlist } : {}),
  });
  await storeAsPending(task, key, value, by, deps);
  const print = fingerprint(value);
  await deps.audit.append({
    secretId: task.secretId,
    actor: input.principal,
    action: "key-provided",
    details: {
      taskId: task.taskId,
      rotationId: task.rotationId,
      keyId: key.keyId,
      fingerprint: print,
      verified,
    },
  });
  const sent = await deps.callbacks.succeed(task.taskToken, { taskId: task.taskId, keyId: key.keyId });
  await deps.tasks.complete(task.taskId, { by, at: deps.clock.now() });
  return {
    taskId: task.taskId,
    secretId: task.secretId,
    keyId: key.keyId,
    fingerprint: print,
    workflow: sent === "sent" ? "resumed" : "not-waiting",
    verified,
  };
}

/**
 * The rotation's AWSPENDING version, under the rotation's own token: the same key stored again is a
 * no-op (Secrets Manager: same token, same value). Another key already stored under it — an earlier
 * answer stored it and died before it finished — is what the workflow will use: this one is refused
 * (the task re-opened with the reason) and the person told to delete the key they just made.
 */
async function storeAsPending(
  task: ManualTask,
  key: ExchangeKeyCredential,
  value: string,
  by: string,
  deps: ManualDeps,
): Promise<void> {
  try {
    await deps.secrets.putPending(task.secretId, versionTokenFor(task.rotationId), value);
  } catch (err) {
    if (err instanceof Error && err.name === "ResourceExistsException") {
      const reason = `another key is already stored for this rotation (an earlier answer stored it); the workflow uses that one. Delete key ${key.keyId} on the exchange`;
      await deps.tasks.refuse(task.taskId, { by, at: deps.clock.now(), reason });
      throw new ManualTaskRefusedError(`task ${task.taskId}: ${reason}`);
    }
    // Nothing stored: the task must not stay claimed by an answer that cannot finish (the next one,
    // through the operator API, would be turned away for minutes). The same key may be given again.
    const name = err instanceof Error ? err.name : "Error";
    const reason = `the key could not be stored (${sanitizeErrorMessage(err).split(key.secret).join("[value not shown]")})`;
    await deps.tasks.refuse(task.taskId, { by, at: deps.clock.now(), reason });
    throw new ManualTaskRefusedError(
      `task ${task.taskId}: ${reason}. The task stays open. ` +
        (name === "AccessDeniedException"
          ? "Only keyshift's writers may store a key (the read policy's guard): run `keys provide` through the operator API (KEYSHIFT_OPERATOR_API_URL)"
          : "Give the same key again"),
      { cause: err },
    );
  }
}

/** Who answers, as one answer: the principal and a short id of this run. */
export function answerOwner(principal: string): string {
  return `${principal} (answer ${randomUUID().slice(0, 8)})`;
}

/** Steps 1–2: the task, open and of `kind`, claimed by `principal`; otherwise a message saying why not. */
export async function claimOpenTask(
  taskId: string,
  kind: ManualTask["kind"],
  principal: string,
  deps: ManualDeps,
): Promise<ManualTask> {
  const task = await deps.tasks.get(taskId);
  if (!task)
    throw new ManualTaskRefusedError(`no task ${taskId}: \`keyshift tasks list\` shows the open ones`);
  if (task.kind !== kind) {
    throw new ManualTaskRefusedError(
      `task ${taskId} asks to ${task.kind === "create-key" ? "make a key (keys provide)" : "delete a key (keys confirm-deleted)"}`,
    );
  }
  refuseClosed(task);
  const now = deps.clock.now();
  if (Date.parse(task.deadline) <= now.getTime()) {
    await deps.tasks.expire(taskId, now);
    throw new ManualTaskRefusedError(
      `task ${taskId} expired at ${task.deadline}: the rotation of ${task.secretId} stalled and nothing was revoked; ` +
        `\`keyshift resume ${task.secretId}\` opens it again`,
    );
  }
  const until = new Date(now.getTime() + ANSWER_CLAIM_SECONDS * 1000);
  const claimed = await deps.tasks.claim(taskId, { by: principal, at: now, until });
  if (claimed.claim?.by !== principal || claimed.status !== "claimed") {
    refuseClosed(claimed);
    throw new ManualTaskRefusedError(
      `${claimed.claim?.by ?? "another operator"} is answering task ${taskId} (until ${claimed.claim?.until}); ` +
        "`keyshift tasks list` shows when it is done",
    );
  }
  return claimed;
}

function refuseClosed(task: ManualTask): void {
  if (task.status === "done") {
    throw new ManualTaskRefusedError(
      `task ${task.taskId} was already answered by ${task.doneBy} at ${task.doneAt}`,
    );
  }
  if (task.status === "expired") {
    throw new ManualTaskRefusedError(
      `task ${task.taskId} expired (${task.doneAt}): \`keyshift status ${task.secretId}\`; \`keyshift resume ${task.secretId}\` opens it again`,
    );
  }
}

/** Step 3: what this key is; throws with the reason when it is not the one asked for. */
async function checkProvided(
  task: ManualTask,
  key: ExchangeKeyCredential,
  deps: ManualDeps,
): Promise<ProvideOutput["verified"]> {
  const versions = await deps.store.getVersions(task.secretId);
  const held = [versions?.current, versions?.previous].filter((v) => v !== undefined);
  if (held.some((v) => v.exchangeKeyId === key.keyId)) {
    throw new ManualTaskRefusedError(`${key.keyId} is a key ${task.secretId} already holds, not a new one`);
  }
  await deps.exchange.verifyKey(task.exchangeAccount, key);
  const described =
    task.request && deps.exchange.describeOwnKey
      ? await deps.exchange.describeOwnKey(task.exchangeAccount, key)
      : undefined;
  // The exchange cannot say what the key is: the operator's word stands, and the audit says so.
  if (!described || !task.request) return "operator";
  const reasons = mismatchesOf(described, task.request);
  if (reasons.length > 0) throw new ManualTaskRefusedError(reasons.join("; "));
  return "exchange";
}
