import { parseKeySecret } from "../deps";
import type { LedgerEntry } from "../model";
import { ManualTaskRefusedError } from "./errors";
import { deletionTaskId } from "./ids";
import { answerOwner } from "./provide";
import { ANSWER_CLAIM_SECONDS, type ManualDeps } from "./tasks";

export interface ConfirmInput {
  /** A delete-key task id (`rm-…`) or the ledger entry id (`<account>#<keyId>`) the alert named. */
  ref: string;
  principal: string;
}

export interface ConfirmOutput {
  entryId: string;
  keyId: string;
  /** `exchange`: keyshift saw the key fail to authenticate. `operator`: it cannot ask; the person's word. */
  verified: "exchange" | "operator";
  workflow: "resumed" | "not-waiting";
}

/**
 * `keyshift keys confirm-deleted`: a person deleted a key keyshift asked them to.
 * 1. The ledger entry must be `awaiting-operator` (revoked: said so; anything else: keyshift deletes
 *    that key itself, nothing to confirm).
 * 2. Where the exchange can tell, the key must no longer exist: asked ONCE with the key itself (its
 *    value is read from the secret's version, never shown), because repeated invalid-key answers
 *    lock the account out. Still there → refused, the entry stays awaiting.
 * 3. Audit who confirmed and how it was verified, then `revoked` (I8: the audit entry first), then
 *    resume the execution waiting on the deletion task, if one does.
 */
export async function confirmDeleted(input: ConfirmInput, deps: ManualDeps): Promise<ConfirmOutput> {
  const task = input.ref.includes("#")
    ? await deps.tasks.get(deletionTaskId(input.ref))
    : await deps.tasks.get(input.ref);
  const entryId = input.ref.includes("#") ? input.ref : task?.entryId;
  const entry = entryId ? await deps.ledger.get(entryId) : undefined;
  if (!entry || !entryId) {
    throw new ManualTaskRefusedError(
      `no ledger entry or delete-key task ${input.ref}: \`keyshift tasks list\` and \`keyshift revocations list\` show them`,
    );
  }
  refuseUnlessAwaiting(entry);
  const verified = await proveGone(entry, deps);
  await deps.audit.append({
    secretId: entry.secretId,
    actor: input.principal,
    action: "key-deletion-confirmed",
    details: { entryId, keyId: entry.keyId, verified, ...(task ? { taskId: task.taskId } : {}) },
  });
  await deps.ledger.markRevoked(entryId, deps.clock.now());
  let workflow: ConfirmOutput["workflow"] = "not-waiting";
  if (task && (task.status === "open" || task.status === "claimed")) {
    const now = deps.clock.now();
    const until = new Date(now.getTime() + ANSWER_CLAIM_SECONDS * 1000);
    const by = answerOwner(input.principal);
    const claimed = await deps.tasks.claim(task.taskId, { by, at: now, until });
    if (claimed.claim?.by === by) {
      workflow =
        (await deps.callbacks.succeed(task.taskToken, { taskId: task.taskId, entryId })) === "sent"
          ? "resumed"
          : "not-waiting";
      await deps.tasks.complete(task.taskId, { by, at: deps.clock.now() });
    }
  }
  return { entryId, keyId: entry.keyId, verified, workflow };
}

function refuseUnlessAwaiting(entry: LedgerEntry): void {
  if (entry.status === "revoked") {
    throw new ManualTaskRefusedError(
      `key ${entry.keyId} (${entry.entryId}) is already revoked (${entry.revokedAt})`,
    );
  }
  if (entry.status !== "awaiting-operator") {
    throw new ManualTaskRefusedError(
      `ledger entry ${entry.entryId} is ${entry.status}: keyshift has not asked a person to delete key ${entry.keyId}; nothing to confirm`,
    );
  }
}

/** Step 2: asked once, with the key itself; `operator` when the exchange cannot tell or the value is gone. */
async function proveGone(entry: LedgerEntry, deps: ManualDeps): Promise<ConfirmOutput["verified"]> {
  if (!deps.exchange.keyStillExists) return "operator";
  let credential: { keyId: string; secret: string } | undefined;
  try {
    const raw = await deps.secrets.getValue(entry.secretId, { versionId: entry.versionId });
    const key = parseKeySecret(entry.secretId, entry.versionId, raw.value);
    credential = { keyId: key.keyId, secret: key.secret };
  } catch {
    // The version is gone (a deprecated version Secrets Manager removed): nothing to sign with.
    return "operator";
  }
  const exists = await deps.exchange.keyStillExists(entry.exchangeAccount, credential);
  if (exists === undefined) return "operator";
  if (exists) {
    throw new ManualTaskRefusedError(
      `key ${entry.keyId} on ${entry.exchangeAccount} still authenticates: it is not deleted. Delete it in the exchange's ` +
        `web UI, then run this again (keyshift asks the exchange once per confirmation: repeated checks of a deleted key can lock the account out)`,
    );
  }
  return "exchange";
}
