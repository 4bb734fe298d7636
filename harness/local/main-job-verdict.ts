/**
 * How `npm start` judges its own run. The README's "Exit codes of `npm start`" is the contract:
 * `0` only when the rotation completed and the old key is dead (removed, or disabled with its
 * removal still on the sweeper's schedule), or the sweeper cleared a handed-over revocation;
 * `2` stalled on lagging consumers (nothing revoked); `1` everything else. A summary never reads
 * as success while the old key lives (I2: never lose track of a key).
 */

/** What the exchange shows of the previous key at the end of the run. */
export type OldKeyState = "active" | "disabled" | "removed" | "unknown";

export interface OldKeyFacts {
  keyId: string | null;
  state: OldKeyState;
  /** The key's revocation ledger entry, when there is one. */
  entryId: string | null;
  needsOperator: boolean;
  /** The sweeper stopped (needs an operator, or the local run gave up waiting on it). */
  sweeperStopped: boolean;
}

export interface OldKeyVerdict {
  keyId: string | null;
  state: OldKeyState;
  entryId: string | null;
  needsOperator: boolean;
  /** Removed, or disabled with its removal still scheduled: nothing can sign with it, nothing is left to do. */
  dead: boolean;
  /** What an operator runs when it is not dead. */
  fix?: string;
}

export function judgeOldKey(facts: OldKeyFacts, exchange: string): OldKeyVerdict {
  const base = {
    keyId: facts.keyId,
    state: facts.state,
    entryId: facts.entryId,
    needsOperator: facts.needsOperator,
  };
  const stuck = facts.needsOperator || facts.sweeperStopped;
  const dead = facts.state === "removed" || (facts.state === "disabled" && !stuck);
  if (dead) return { ...base, dead };
  const retry = facts.entryId
    ? `then \`keyshift revocations retry ${facts.entryId}\` (the sweeper removes it on its next run)`
    : 'then `keyshift status <secretId>` and `keyshift force-revoke <secretId> --reason "..."`';
  const fix =
    facts.state === "unknown"
      ? `look the key up on ${exchange} by hand (\`keyshift status <secretId>\`, \`keyshift revocations list\`) and remove it there if it still exists`
      : `find why the removal fails (\`keyshift revocations list\` shows the last error; the admin key, the exchange's status), fix it, ${retry}`;
  return { ...base, dead, fix };
}

export interface VerdictInput {
  rotation: "completed" | "revocation-deferred" | "stalled" | "aborted" | "failed";
  oldKey: OldKeyVerdict;
  ledgerNeedsOperator: number;
  sweeperOutcome: "not-needed" | "ledger-clear" | "needs-operator" | "gave-up";
  secretLeaks: number;
  requestsWithRemovedKey: number;
  emergency?: { previousKeyAuthenticates: boolean; switchedConsumersFailedRequests: number };
  /** The replaced key was IP-bound and its successor does not carry the same binding. */
  bindingLost?: boolean;
  /** `--attacker`: the misuse run found the retired key in use, stopped it, and no order went through after. */
  attacker?: { detected: boolean; stopped: boolean; acceptedAfterStop: number };
}

/** The exit code, and the reasons it is not 0 (empty on success). */
export function mainJobVerdict(v: VerdictInput): { code: 0 | 1 | 2; reasons: string[] } {
  if (v.rotation === "stalled") return { code: 2, reasons: ["the rotation stalled on lagging consumers"] };
  const reasons: string[] = [];
  const rotated =
    v.rotation === "completed" ||
    (v.rotation === "revocation-deferred" && v.sweeperOutcome === "ledger-clear");
  if (!rotated) reasons.push(`the rotation did not complete (${v.rotation}, sweeper ${v.sweeperOutcome})`);
  // Aborted before promotion: the old key is still current on purpose, which rotated=false already says.
  if (rotated && !v.oldKey.dead) reasons.push(`the old key still lives (${v.oldKey.state} on the exchange)`);
  if (v.ledgerNeedsOperator > 0) reasons.push(`${v.ledgerNeedsOperator} ledger entry(ies) need an operator`);
  if (v.secretLeaks > 0) reasons.push(`${v.secretLeaks} secret leak(s)`);
  if (v.bindingLost) reasons.push("the new key does not carry the replaced key's IP allow-list");
  // An emergency leaves the lagging consumer behind on purpose: judged by what the others saw.
  if (v.emergency) {
    if (v.emergency.previousKeyAuthenticates) reasons.push("the compromised key still authenticates");
    if (v.emergency.switchedConsumersFailedRequests > 0)
      reasons.push(`${v.emergency.switchedConsumersFailedRequests} failed request(s) of switched consumers`);
  } else if (v.requestsWithRemovedKey > 0) {
    reasons.push(`${v.requestsWithRemovedKey} request(s) made with a removed key`);
  }
  if (v.attacker) {
    if (!v.attacker.detected) reasons.push("the misuse run did not report the retired key in use");
    if (!v.attacker.stopped) reasons.push("keyshift did not stop the retired key the attacker used");
    if (v.attacker.acceptedAfterStop > 0)
      reasons.push(
        `${v.attacker.acceptedAfterStop} attacker order(s) accepted after keyshift stopped the key`,
      );
  }
  return { code: reasons.length === 0 ? 0 : 1, reasons };
}
