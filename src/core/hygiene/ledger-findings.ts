import type { LedgerEntry } from "../model";
import type { Add, HygieneThresholds, SecretFacts } from "./findings";

/** Ledger entries of this secret waiting for an operator: a failed revocation, or a deletion a person owes. */
export function judgeLedger(facts: SecretFacts, now: Date, t: HygieneThresholds, add: Add): void {
  const secretId = facts.settings.secretId;
  for (const entry of facts.ledger.filter(
    (e) => e.secretId === secretId && e.needsOperator && e.status !== "revoked",
  )) {
    if (entry.status === "awaiting-operator") {
      judgeManualDeletion(entry, now, t, add);
      continue;
    }
    add(
      "ledger-needs-operator",
      "high",
      `revocation of key ${entry.keyId} needs an operator (${entry.status}, ${entry.attempts} attempt(s)${entry.lastError ? `, last error: ${entry.lastError}` : ""})`,
      entry.status === "restored"
        ? `once its consumer is on the current key: keyshift revocations retry ${entry.entryId}`
        : `fix the cause, then keyshift revocations retry ${entry.entryId}`,
    );
  }
}

/** A key only a person can delete, asked for since `awaitingSince`: overdue (high) past the threshold. */
function judgeManualDeletion(entry: LedgerEntry, now: Date, t: HygieneThresholds, add: Add): void {
  const since = entry.awaitingSince ?? entry.updatedAt;
  const hours = Math.floor((now.getTime() - Date.parse(since)) / 3_600_000);
  const overdue = hours >= t.manualDeletionOverdueHours;
  add(
    overdue ? "manual-deletion-overdue" : "manual-deletion-pending",
    overdue ? "high" : "low",
    `key ${entry.keyId} must be deleted by a person on ${entry.exchangeAccount}; asked ${hours} h ago (${since})` +
      (overdue ? `, more than ${t.manualDeletionOverdueHours} h: the retired key still authenticates` : ""),
    `delete key ${entry.keyId} in the exchange's web UI (docs/exchanges.md), then keyshift keys confirm-deleted ${entry.entryId}`,
  );
}
