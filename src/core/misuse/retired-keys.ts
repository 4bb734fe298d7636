import { sanitizeErrorMessage } from "../errors";
import type { LedgerEntry } from "../model";
import type { Exchange, ExchangeKey, RevocationLedger } from "../ports";
import { findingId } from "./finding-id";
import { type Finding, hourOf } from "./model";
import type { MisuseReportOutput } from "./report";
import { SEVERITY } from "./rules";

/**
 * A retired key the exchange says authenticated after it was retired: the per-key evidence an
 * exchange gives where it reports each key's last use (`ExchangeKey.lastUsedAt`, Gate's
 * `last_access`). Hourly counts cannot tell a retired key from the current one on most exchanges;
 * this can, to the second.
 */

/**
 * Use this long after the retirement is not judged: a request a consumer sent with the previous key
 * just before it confirmed the current one, and the skew between the exchange's clock and ours.
 */
export const RETIRED_USE_TOLERANCE_MS = 120_000;

/**
 * Ledger statuses whose key keyshift has retired and not yet seen gone. `restoring`/`restored`: an
 * operator put the key back in service on purpose (audited); `revoked`: the key no longer exists.
 */
const RETIRED: ReadonlySet<LedgerEntry["status"]> = new Set([
  "pending",
  "failed",
  "disabled",
  "awaiting-operator",
]);

/**
 * When the key stopped being one any consumer may use: its ledger entry opens after the gate passed;
 * a key an operator restored was in service again until an attempt passed the gate anew (NaN while
 * no such attempt is recorded: nothing to judge).
 */
const retiredAtMs = (entry: LedgerEntry): number =>
  entry.lastRestoredAt ? Date.parse(entry.reRetiredAt ?? "") : Date.parse(entry.createdAt);

export interface RetiredKeyUse {
  finding: Finding;
  entry: LedgerEntry;
}

/**
 * Pure: which of a secret's retired keys the exchange saw used after retirement.
 * Input: the secret's ledger entries, the account's keys as the exchange lists them. Output: one
 * critical `retired-key-used` finding per key, about the hour of its last use; the evidence is
 * seconds, never a value.
 */
export function judgeRetiredKeys(
  entries: readonly LedgerEntry[],
  keys: readonly ExchangeKey[],
  toleranceMs = RETIRED_USE_TOLERANCE_MS,
): RetiredKeyUse[] {
  const byId = new Map(keys.map((k) => [k.keyId, k]));
  const uses: RetiredKeyUse[] = [];
  for (const entry of entries) {
    if (!RETIRED.has(entry.status)) continue;
    const lastUsed = Date.parse(byId.get(entry.keyId)?.lastUsedAt ?? "");
    if (!Number.isFinite(lastUsed)) continue;
    const after = lastUsed - retiredAtMs(entry);
    if (!Number.isFinite(after) || after <= toleranceMs) continue;
    uses.push({
      entry,
      finding: {
        kind: "retired-key-used",
        severity: SEVERITY["retired-key-used"],
        secretId: entry.secretId,
        keyId: entry.keyId,
        hour: hourOf(lastUsed),
        evidence: {
          secondsAfterRetired: Math.round(after / 1000),
          lastUsedEpochSeconds: Math.floor(lastUsed / 1000),
          // Disabled keys should not authenticate at all: say so in numbers.
          disabled: entry.status === "disabled" ? 1 : 0,
        },
        command: `keyshift revocations retry ${entry.entryId}`,
      },
    });
  }
  return uses;
}

export interface RetiredKeySightingsDeps {
  ledger: Pick<RevocationLedger, "listByStatus">;
  exchange: Pick<Exchange, "listKeys" | "capabilities">;
  /** Default `RETIRED_USE_TOLERANCE_MS`; the local stack compresses time. */
  retiredUseToleranceMs?: number;
}

export interface RetiredKeySightings {
  uses: RetiredKeyUse[];
  /** Accounts whose keys could not be listed this run (sanitized reason): nothing of theirs was judged. */
  unlisted: Array<{ account: string; error: string }>;
}

/**
 * The retired keys of the given secrets seen in use. Reads the ledger's entries in the retired
 * statuses (one Query each, whatever the number of secrets), and lists the keys of an account only
 * when one of its secrets has a retired key not yet gone (one listing per account per run).
 * Accounts a person manages (no key listing) are skipped; an account whose listing fails is named,
 * never silently judged clean.
 */
export async function retiredKeySightings(
  secrets: ReadonlyArray<{ secretId: string; exchangeAccount: string }>,
  deps: RetiredKeySightingsDeps,
): Promise<RetiredKeySightings> {
  const asked = new Set(secrets.map((s) => s.secretId));
  const open = new Map<string, LedgerEntry[]>();
  for (const status of RETIRED) {
    for (const entry of await deps.ledger.listByStatus(status)) {
      if (!asked.has(entry.secretId)) continue;
      const onAccount = open.get(entry.exchangeAccount) ?? [];
      onAccount.push(entry);
      open.set(entry.exchangeAccount, onAccount);
    }
  }
  const out: RetiredKeySightings = { uses: [], unlisted: [] };
  for (const [account, entries] of open) {
    try {
      if ((await deps.exchange.capabilities(account)).keyManagement === "manual") continue;
      const { keys } = await deps.exchange.listKeys(account);
      out.uses.push(...judgeRetiredKeys(entries, keys, deps.retiredUseToleranceMs));
    } catch (err) {
      out.unlisted.push({ account, error: sanitizeErrorMessage(err) });
    }
  }
  return out;
}

/** Retired keys seen in use from `fromHour` on, per secret; what was seen and what could not be asked go in `out`. */
export async function sightingsBySecret(
  all: ReadonlyArray<{ secretId: string; exchangeAccount: string }>,
  fromHour: number,
  deps: { retiredKeys?: RetiredKeySightingsDeps },
  out: Pick<MisuseReportOutput, "retiredKeysSeen" | "keyListingFailed">,
): Promise<Map<string, Finding[]>> {
  const bySecret = new Map<string, Finding[]>();
  if (!deps.retiredKeys) return bySecret;
  const { uses, unlisted } = await retiredKeySightings(all, deps.retiredKeys);
  out.keyListingFailed.push(...unlisted);
  for (const { finding, entry } of uses) {
    if (finding.hour < fromHour) continue;
    bySecret.set(finding.secretId, [...(bySecret.get(finding.secretId) ?? []), finding]);
    const { entryId, exchangeAccount: account, status } = entry;
    out.retiredKeysSeen.push({ findingId: findingId(finding), entryId, account, status });
  }
  return bySecret;
}

/** One finding per id: the hourly counts and the exchange's last-use time can both see one retired key's hour. */
export function uniqueFindings(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const id = findingId(f);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
