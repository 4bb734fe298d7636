import { sanitizeErrorMessage } from "../errors";
import { attemptRevocation, type RevocationDeps } from "../revocation/through-ledger";
import type { MisuseReportOutput } from "./report";

/** The actor the audit trail names for what the hourly misuse run does on its own. */
export const MISUSE_ACTOR = "keyshift-misuse-detector";

/**
 * What keyshift did about a retired key seen in use:
 * - `disabled` / `revoked`: the attempt disabled (two-stage exchanges) or removed the key;
 * - `failed`: the exchange refused or failed; the entry stays due and the sweeper retries it;
 * - `held`: the revocation guard refused (a consumer may hold the key, or it is current again):
 *   keyshift never revokes a key a consumer holds, even one an attacker uses: rotate as compromised;
 * - `needs-person`: a person manages this account's keys; the alert says delete it now;
 * - `already-disabled`: it was disabled after the use was seen; its removal follows the grace.
 */
export type RetiredKeyOutcome =
  | "disabled"
  | "revoked"
  | "failed"
  | "held"
  | "needs-person"
  | "already-disabled";

export interface RetiredKeyAction {
  findingId: string;
  entryId: string;
  outcome: RetiredKeyOutcome;
  /** Why it failed or was held (sanitized). */
  reason?: string;
}

/**
 * Stops each retired key seen in use at once (issue 20: "keyshift disables or removes a retired key
 * seen in use at once"), through the ledger and its rules — the same attempt the sweeper makes,
 * under the same claim and revocation guard (I1, I5), only now instead of at the entry's next
 * backoff. Each attempt is audited by the attempt itself under `MISUSE_ACTOR`.
 *
 * Input: the report's `retiredKeysSeen`. Output: one action per ledger entry.
 */
export async function stopRetiredKeys(
  seen: MisuseReportOutput["retiredKeysSeen"],
  deps: RevocationDeps,
): Promise<RetiredKeyAction[]> {
  const actions: RetiredKeyAction[] = [];
  const done = new Set<string>();
  for (const { findingId, entryId } of seen) {
    if (done.has(entryId)) continue;
    done.add(entryId);
    actions.push({ findingId, entryId, ...(await stopOne(entryId, deps)) });
  }
  return actions;
}

async function stopOne(
  entryId: string,
  deps: RevocationDeps,
): Promise<Omit<RetiredKeyAction, "findingId" | "entryId">> {
  const entry = await deps.ledger.get(entryId);
  if (!entry || entry.status === "revoked") return { outcome: "revoked" };
  if (entry.status === "awaiting-operator") return { outcome: "needs-person" };
  if (entry.status === "disabled") return { outcome: "already-disabled" };
  try {
    const attempt = await attemptRevocation(entry, MISUSE_ACTOR, deps, { fresh: true });
    if (attempt.held) return { outcome: "held", reason: attempt.held.reason };
    if (attempt.entry.status === "revoked") return { outcome: "revoked" };
    if (attempt.entry.status === "disabled") return { outcome: "disabled" };
    return { outcome: "failed", ...(attempt.error ? { reason: attempt.error } : {}) };
  } catch (err) {
    return { outcome: "failed", reason: sanitizeErrorMessage(err) };
  }
}
