/**
 * I9, no false record: what the ledger and the audit trail say about a key agrees with what the
 * exchange (the fake's own key list and call log) holds. The exchange is the truth; the product's
 * records are the claims. A claim may go stale only through a later exchange call on that key
 * (a restore enabling a disabled key, a removal after the grace) — never on its own.
 */
import type { AuditEntry, LedgerEntry } from "../../../src/core/model";
import type { ExchangeKey } from "../../../src/core/ports";
import type { Violation } from "../world";

const v = (signature: string, message: string): Violation => ({
  invariant: "I9",
  signature: `I9: ${signature}`,
  message,
});

export interface ExchangeCallRecord {
  method: string;
  account: string;
  keyId?: string;
}

/** The exchange as it stands: keys by account, and every call that reached it, in order. */
export interface ExchangeTruth {
  keys(account: string): ExchangeKey[];
  calls: readonly ExchangeCallRecord[];
}

type Claim = "disabled" | "revoked" | "restored";

/** What the exchange must show for each claim (BRIEF I9; "disabled" allows a key already gone). */
function agrees(claim: Claim, key: ExchangeKey | undefined): boolean {
  if (claim === "revoked") return key === undefined;
  if (claim === "disabled") return key === undefined || key.status === "disabled";
  return key?.status === "active";
}

const shown = (key: ExchangeKey | undefined) => (key ? key.status : "not listed");

/** Calls that only ask (a key verifying, describing itself, or saying whether it still exists). */
const READS = new Set(["verifyKey", "describeOwnKey", "keyStillExists"]);

function callOnKeySince(ex: ExchangeTruth, account: string, keyId: string, from: number): boolean {
  for (let i = Math.max(0, from); i < ex.calls.length; i++) {
    const c = ex.calls[i];
    if (c && c.account === account && c.keyId === keyId && !READS.has(c.method)) return true;
  }
  return false;
}

/**
 * Ledger claims, after every event. `seen` remembers, per entry, the claim last seen and how long
 * the call log was when it appeared: at its appearance the claim must agree with the exchange; later
 * it may disagree only when an exchange call on the key came after it.
 */
export function checkLedgerRecords(
  ledger: readonly LedgerEntry[],
  ex: ExchangeTruth,
  seen: Map<string, { status: string; calls: number }>,
): Violation[] {
  const out: Violation[] = [];
  for (const e of ledger) {
    const before = seen.get(e.entryId);
    if (before?.status !== e.status) seen.set(e.entryId, { status: e.status, calls: ex.calls.length });
    if (e.status !== "disabled" && e.status !== "revoked" && e.status !== "restored") continue;
    const key = ex.keys(e.exchangeAccount).find((k) => k.keyId === e.keyId);
    if (agrees(e.status, key)) continue;
    const since = seen.get(e.entryId)?.calls ?? ex.calls.length;
    if (callOnKeySince(ex, e.exchangeAccount, e.keyId, since)) continue;
    out.push(
      v(
        `ledger says ${e.status}, exchange disagrees`,
        `${e.entryId} says ${e.status} while the exchange lists ${e.keyId} as ${shown(key)} (no exchange call on it since)`,
      ),
    );
  }
  return out;
}

const AUDIT_CLAIMS: Record<string, { claim: Claim; effect: string }> = {
  "key-disabled": { claim: "disabled", effect: "disableKey" },
  "key-revoked": { claim: "revoked", effect: "removeKey" },
  "key-restored": { claim: "restored", effect: "enableKey" },
};

/**
 * Audit claims, as each entry appears: the key is as the entry says, unless the exchange call the
 * entry reports (its last call of that kind on the key) was followed by another call on the key.
 */
export function checkAuditRecords(
  entries: readonly AuditEntry[],
  account: string,
  ex: ExchangeTruth,
): Violation[] {
  const out: Violation[] = [];
  for (const a of entries) {
    const rule = AUDIT_CLAIMS[a.action];
    const keyId = a.details?.keyId;
    if (!rule || typeof keyId !== "string") continue;
    const key = ex.keys(account).find((k) => k.keyId === keyId);
    if (agrees(rule.claim, key)) continue;
    let effect = -1;
    ex.calls.forEach((c, i) => {
      if (c.account === account && c.keyId === keyId && c.method === rule.effect) effect = i;
    });
    if (effect >= 0 && callOnKeySince(ex, account, keyId, effect + 1)) continue;
    out.push(
      v(
        `audit says ${a.action}, exchange disagrees`,
        `${a.secretId}#${a.seq} ${a.action} ${keyId} while the exchange lists it as ${shown(key)}`,
      ),
    );
  }
  return out;
}

/**
 * What `keyshift status` prints about keys, at quiescence: the recorded current key (it prints the
 * ledger's statuses verbatim, judged above after every event). The current key must authenticate.
 */
export function checkRecordedCurrent(
  secretId: string,
  recordedCurrentKeyId: string | undefined,
  account: string,
  ex: ExchangeTruth,
): Violation[] {
  if (!recordedCurrentKeyId) return [];
  const key = ex.keys(account).find((k) => k.keyId === recordedCurrentKeyId);
  if (key?.status === "active") return [];
  return [
    v(
      "status names a dead current key",
      `${secretId}: the recorded current key ${recordedCurrentKeyId} is ${shown(key)} on the exchange`,
    ),
  ];
}
