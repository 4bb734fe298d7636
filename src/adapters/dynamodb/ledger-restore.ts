import type { LedgerEntry } from "../../core/model";
import { CLAIM_FREE, DUE, type LedgerTable } from "./ledger-table";

/*
 * A restore's three transitions (the operator's undo of a disable within its grace). Mutual
 * exclusion with a revocation attempt without transactions: the restore's first write needs no live
 * claim, and an attempt's claim needs the status it read, never `restoring` (`DynamoRevocationLedger.claim`).
 */

/** disabled (no live claim) → restoring, or restoring → restoring under a new owner; off the sweep. */
export async function beginRestore(
  rows: LedgerTable,
  entryId: string,
  intent: { owner: string; actor: string; reason: string; at: Date },
): Promise<LedgerEntry> {
  const at = intent.at.toISOString();
  return rows.update(
    entryId,
    "SET #s = :restoring, restoring = :intent, updatedAt = :at REMOVE #claim, sweep, sweepAt",
    `(#s = :disabled AND ${CLAIM_FREE}) OR #s = :restoring`,
    {
      ":restoring": "restoring",
      ":disabled": "disabled",
      ":intent": { owner: intent.owner, actor: intent.actor, reason: intent.reason, at },
      ":at": at,
      ":now": at,
    },
  );
}

export async function markRestored(
  rows: LedgerTable,
  entryId: string,
  update: { owner: string; at: Date },
): Promise<LedgerEntry> {
  const entry = await rows.mustGet(entryId);
  const intent = entry.restoring;
  if (entry.status !== "restoring" || intent?.owner !== update.owner) return entry;
  const at = update.at.toISOString();
  const values: Record<string, unknown> = {
    ":restoring": "restoring",
    ":restored": "restored",
    ":owner": update.owner,
    ":r": { actor: intent.actor, reason: intent.reason, at },
    ":at": at,
    ":true": true,
  };
  let set = "SET #s = :restored, restored = :r, lastRestoredAt = :at, updatedAt = :at, needsOperator = :true";
  // In service again: the next attempt that passes the gate retires it anew (`reRetiredAt`).
  const remove = ["restoring", "nextAttemptAt", "sweep", "sweepAt", "reRetiredAt"];
  let unchanged = "attribute_not_exists(breakGlass)";
  // The break-glass authorised the disable a restore undid: it moves to history (I1 again).
  // `recordBreakGlass` is refused while restoring, so the one read here is the one moved.
  if (entry.breakGlass) {
    values[":bgl"] = [entry.breakGlass];
    values[":empty"] = [];
    values[":bgAt"] = entry.breakGlass.at;
    set += ", breakGlassHistory = list_append(if_not_exists(breakGlassHistory, :empty), :bgl)";
    remove.push("breakGlass");
    unchanged = "breakGlass.#bgat = :bgAt";
  }
  return rows.update(
    entryId,
    `${set} REMOVE ${remove.join(", ")}`,
    `#s = :restoring AND restoring.#owner = :owner AND ${unchanged}`,
    values,
  );
}

export async function withdrawRestore(
  rows: LedgerTable,
  entryId: string,
  update: { owner: string; at: Date },
): Promise<LedgerEntry> {
  const entry = await rows.mustGet(entryId);
  if (entry.status !== "restoring" || entry.restoring?.owner !== update.owner) return entry;
  const values: Record<string, unknown> = {
    ":restoring": "restoring",
    ":disabled": "disabled",
    ":owner": update.owner,
    ":at": update.at.toISOString(),
  };
  // Back on the sweep at the removal time the disable scheduled (absent: it waits for an operator).
  let set = "SET #s = :disabled, updatedAt = :at";
  if (entry.nextAttemptAt) {
    values[":next"] = entry.nextAttemptAt;
    values[":due"] = DUE;
    set += ", sweep = :due, sweepAt = :next";
  }
  return rows.update(
    entryId,
    `${set} REMOVE restoring`,
    "#s = :restoring AND restoring.#owner = :owner",
    values,
  );
}
