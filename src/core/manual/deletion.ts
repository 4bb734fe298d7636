import type { Deps } from "../deps";
import type { LedgerEntry } from "../model";
import { deletionTaskId } from "./ids";

/**
 * A revocation attempt on a manual account, under its claim and after the guard passed (I1): the
 * key cannot be deleted through an API, so a person is asked to. Audited and alerted first, then
 * the entry moves to `awaiting-operator` (off the sweep) under the claim. A person finishes it
 * with `keyshift keys confirm-deleted` (confirm.ts), which checks the key is gone where it can.
 */
export async function askPersonToDelete(
  entry: LedgerEntry,
  exchange: string,
  actor: string,
  owner: string,
  deps: Pick<Deps, "ledger" | "audit" | "alerts" | "clock">,
): Promise<LedgerEntry> {
  const taskId = deletionTaskId(entry.entryId);
  const confirm = `keyshift keys confirm-deleted ${taskId}`;
  await deps.audit.append({
    secretId: entry.secretId,
    actor,
    action: "deletion-requested",
    details: { entryId: entry.entryId, keyId: entry.keyId, kind: entry.kind ?? "previous", taskId },
  });
  await deps.alerts.send({
    kind: "manual-step",
    secretId: entry.secretId,
    subject: `keyshift: a person must delete key ${entry.keyId} on ${exchange} account ${entry.exchangeAccount}`,
    details: {
      entryId: entry.entryId,
      keyId: entry.keyId,
      taskId,
      instruction:
        `Delete API key ${entry.keyId} of ${exchange} account ${entry.exchangeAccount} in the exchange's web UI ` +
        `(docs/exchanges.md, "${exchange}: manual steps"), then run \`${confirm}\`.`,
    },
  });
  return deps.ledger.markAwaitingOperator(entry.entryId, { at: deps.clock.now(), owner });
}
