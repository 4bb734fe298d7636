import { createHash } from "node:crypto";
import type { ManualTaskKind } from "../model";

/** Short and typeable; the same rotation and kind (or the same key to delete) always give the same id. */
export function taskIdFor(kind: ManualTaskKind, subject: string): string {
  const hash = createHash("sha256").update(`keyshift:task:${kind}:${subject}`).digest("hex").slice(0, 10);
  return `${kind === "create-key" ? "mk" : "rm"}-${hash}`;
}

/** The deletion task of a ledger entry (one per key, whoever asked: the workflow, an abort, the sweeper). */
export function deletionTaskId(entryId: string): string {
  return taskIdFor("delete-key", entryId);
}

/** How long a person has, unless the stack says otherwise (`KEYSHIFT_MANUAL_TASK_SECONDS`): three days. */
export const DEFAULT_MANUAL_TASK_SECONDS = 3 * 24 * 3600;
