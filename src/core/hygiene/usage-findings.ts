import { hourOf } from "../misuse/model";
import type { SecretSettings } from "../model";
import type { UsageStore } from "../ports";
import type { Add, SecretFacts } from "./findings";

/** How far back the audit looks for usage reports: a week, the audit's own period. */
const USAGE_WINDOW_DAYS = 7;

/** How many key × hour usage items the secret's consumers reported over the audit's window. */
export async function usageFacts(usage: Pick<UsageStore, "readUsage">, secretId: string, now: Date) {
  const to = hourOf(now.getTime()) + 1;
  const items = await usage.readUsage(secretId, to - USAGE_WINDOW_DAYS * 24, to);
  return { keyHours: items.length, windowDays: USAGE_WINDOW_DAYS };
}

/**
 * Consumers that report no usage (issue 20): without their counts the misuse detector cannot tell
 * their activity from anyone else's, so every request the exchange sees is unaccounted for — the
 * detector stays quiet on such a secret instead of flooding, which is exactly why it must be said
 * here. Medium while instances heartbeat (they run, but do not count: an SDK without the hook, or
 * one older than it); low when nothing heartbeats either (the silent-consumer finding says more).
 */
export function judgeUsageReporting(facts: SecretFacts, now: Date, add: Add): void {
  const { usage, consumers, instances, settings } = facts;
  if (!usage || usage.keyHours > 0 || consumers.length === 0) return;
  const windowStart = now.getTime() - usage.windowDays * 86_400_000;
  const running = instances.filter((i) => Date.parse(i.lastSeenAt) >= windowStart).length;
  const fix =
    "add `consumer.recordUsage(<endpoint class>)` beside each exchange call (or `wrapFetch`), with @keyshift/consumer " +
    "from usage reporting on (README, Joining as a consumer; docs/heartbeat-protocol.md, Usage counts)";
  if (running > 0) {
    add(
      "no-usage-reporting",
      "medium",
      `${running} consumer instance(s) heartbeat but none reported usage in ${usage.windowDays} day(s): misuse reconciliation cannot account for this key's activity`,
      fix,
    );
  } else {
    add(
      "no-usage-reporting",
      "low",
      `no consumer reported usage of ${settings.secretId} in ${usage.windowDays} day(s)`,
      fix,
    );
  }
}

/**
 * Two or more enrolled secrets on one exchange account whose exchange reports use per account
 * only (Deribit's logs name the account, never the key): the exchange side cannot say which secret
 * did what, so the misuse detector judges none of them on it (`unattributed` in its report). The
 * setup rule is one key per (sub)account.
 */
export function judgeSharedAccount(facts: SecretFacts, add: Add): void {
  const others = facts.sharingAccount ?? [];
  if (others.length === 0) return;
  const { secretId, exchangeAccount } = facts.settings;
  add(
    "shared-exchange-account",
    "medium",
    `${secretId} shares exchange account ${exchangeAccount} with ${others.join(", ")}; its exchange reports use per account, never per key, so misuse detection cannot tell which secret's key did what and judges none of them on the exchange's side`,
    'give each key its own sub-account (one key per sub-account, each with its own admin secret; docs/exchanges.md, Deribit, "What the exchange reports about use"), then enroll each secret on its own account',
  );
}

/**
 * The hourly pull reads only part of what the account's exchange reports (Bybit/OKX without the
 * firm's read-only observer key: transfers, not executions): misuse detection's exchange side —
 * reconciliation, new endpoint classes, rates — is blind to trading on this account, and nothing
 * else would say so. The adapter names each gap and why (`Exchange.activityGaps`).
 */
export function judgeActivityGaps(facts: SecretFacts, add: Add): void {
  const { exchange, settings } = facts;
  if (!("keys" in exchange) || !exchange.activityGaps?.length) return;
  add(
    "exchange-activity-partial",
    "medium",
    `misuse detection reads only part of what exchange account ${settings.exchangeAccount} reports: ${exchange.activityGaps.join("; ")}`,
    `give keyshift a read-only key of the sub-account, bound to keyshift's egress, as "observer" in the admin secret keyshift/admin/${settings.exchangeAccount} (docs/misuse.md, "Exchanges report what they saw")`,
  );
}

/** The other enrolled secrets on the account, when its exchange reports use per account only. */
export function sharing(
  fleet: { all: readonly SecretSettings[] },
  settings: SecretSettings,
  exchange: SecretFacts["exchange"],
) {
  if (!("keys" in exchange) || exchange.activityAttribution !== "account") return {};
  const others = fleet.all
    .filter((s) => s.exchangeAccount === settings.exchangeAccount && s.secretId !== settings.secretId)
    .map((s) => s.secretId);
  return others.length > 0 ? { sharingAccount: others } : {};
}
