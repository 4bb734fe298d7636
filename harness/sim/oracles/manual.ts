/**
 * Manual key management (issue 17), judged from the world's record of what the persons did
 * (`ManualRecord`), the tokens Step Functions accepted (`SimTaskTokens`) and the raw fakes — never
 * by asking the code under test:
 * - M1: a person deletes a key only once keyshift asked (its ledger entry is `awaiting-operator`),
 *   only a key no AWSCURRENT/AWSPENDING label carries (I1/I5 as at any removal), and only when, at
 *   the moment keyshift asked, no live required instance held it (I1 from the instances' record, as
 *   for an exchange removal: a person's deletion is one);
 * - M2: no task has two answers that both went through: keyshift accepted at most one `keys provide`
 *   per task, and Step Functions accepted at most one person's SendTaskSuccess per task;
 * - M3: a key a person made wrong on purpose (broader permissions, the wrong name) is never accepted.
 * The ledger's `revoked` for a manual key is judged by I9 (`records.ts`): the exchange must no
 * longer hold it — a person's deletion is not a keyshift call, so nothing excuses a false claim.
 */
import { checkRevocationCall } from "../invariants";
import { takeSnapshot } from "../snapshot";
import type { Violation, World } from "../world";
import { checkRevocationTruth } from "./liveness";
import { registryFacts } from "./world-checks";

const v = (invariant: string, signature: string, message: string): Violation => ({
  invariant,
  signature: `${invariant}: ${signature}`,
  message,
});

/** M1, right before a person deletes `keyId` at the web UI. */
export async function checkPersonDeletion(world: World, account: string, keyId: string): Promise<void> {
  const entryId = `${account}#${keyId}`;
  const entry = await world.raw.ledger.get(entryId);
  const out: Violation[] = [];
  if (entry?.status !== "awaiting-operator") {
    out.push(
      v(
        "M1",
        "a person deleted a key keyshift had not asked to delete",
        `${keyId} on ${account} deleted at the web UI while its ledger entry is ${entry?.status ?? "missing"}`,
      ),
    );
  }
  const snap = await takeSnapshot(world);
  out.push(
    ...checkRevocationCall(snap, { method: "personDelete", account, keyId, labelOwner: entry?.secretId }),
  );
  const call = {
    method: "personDelete",
    keyId,
    at: world.raw.clock.now().getTime(),
    seq: world.truth.tick(),
  };
  const asked = world.manual.asked.get(entryId);
  out.push(
    ...checkRevocationTruth(
      call,
      world.truth.instances.values(),
      await registryFacts(world),
      world.truth,
      (id) => (id === entry?.secretId ? asked : undefined),
    ),
  );
  for (const x of out) world.violate(x);
}

/** M2 and M3, after every event. */
export function checkManualAnswers(world: World): Violation[] {
  const out: Violation[] = [];
  for (const [taskId, keys] of world.manual.provided) {
    if (keys.length > 1)
      out.push(
        v(
          "M2",
          "two answers to one task accepted",
          `task ${taskId}: keys provide accepted ${keys.join(", ")}`,
        ),
      );
    for (const keyId of keys) {
      const wrong = world.manual.made.get(keyId)?.wrong;
      if (wrong)
        out.push(
          v("M3", "a wrong key was accepted", `task ${taskId}: key ${keyId} (made ${wrong}) was accepted`),
        );
    }
  }
  const perTask = new Map<string, number>();
  for (const a of world.tokens.accepted) {
    if (!a.by.startsWith("person") || !a.taskId) continue;
    perTask.set(a.taskId, (perTask.get(a.taskId) ?? 0) + 1);
  }
  for (const [taskId, n] of perTask)
    if (n > 1)
      out.push(
        v(
          "M2",
          "two answers to one task resumed the execution",
          `task ${taskId}: ${n} SendTaskSuccess accepted`,
        ),
      );
  return out;
}
