import type { DeletionProof, DeletionProver } from "../ports";
import { ManualTaskRefusedError } from "./errors";
import { deletionTaskId } from "./ids";
import { inProcessProver, refuseUnlessAwaiting } from "./prove";
import { answerOwner } from "./provide";
import { ANSWER_CLAIM_SECONDS, type ManualDeps } from "./tasks";

/**
 * `prover`: who proves the key gone. The operator API, which may not read key values, passes the
 * prove-deleted function's; without one the proof runs here, on these deps' own reads (the CLI
 * with an operator's credentials: a read it is refused records the person's word, as it says).
 */
export type ConfirmDeps = ManualDeps & { prover?: DeletionProver | undefined };

export interface ConfirmInput {
  /** A delete-key task id (`rm-…`) or the ledger entry id (`<account>#<keyId>`) the alert named. */
  ref: string;
  principal: string;
}

export interface ConfirmOutput {
  entryId: string;
  keyId: string;
  /** `exchange`: keyshift saw the key fail to authenticate. `operator`: it cannot ask; the person's word. */
  verified: DeletionProof;
  workflow: "resumed" | "not-waiting";
}

/**
 * `keyshift keys confirm-deleted`: a person deleted a key keyshift asked them to.
 * 1. The ledger entry must be `awaiting-operator` (revoked: said so; anything else: keyshift deletes
 *    that key itself, nothing to confirm).
 * 2. Where the exchange can tell, the key must no longer exist: the prover (./prove.ts) asks ONCE
 *    with the key itself (its value read from the secret's version, never shown), because repeated
 *    invalid-key answers lock the account out. Still there → refused, the entry stays awaiting;
 *    a proof that could not be made throws, nothing recorded.
 * 3. Audit who confirmed and how it was verified, then `revoked` (I8: the audit entry first), then
 *    resume the execution waiting on the deletion task, if one does.
 */
export async function confirmDeleted(input: ConfirmInput, deps: ConfirmDeps): Promise<ConfirmOutput> {
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
  const prover = deps.prover ?? inProcessProver(deps, { unreadable: "operator" });
  const verified = await prover.prove(entry);
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
