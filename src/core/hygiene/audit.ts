import type { Deps } from "../deps";
import { ExchangeIpRefusedError, sanitizeErrorMessage } from "../errors";
import { hourOf } from "../misuse/model";
import type { VersionFingerprints } from "../model";
import type { UsageStore } from "../ports";
import {
  DEFAULT_THRESHOLDS,
  type HygieneFinding,
  type HygieneThresholds,
  judgeSecret,
  recordedKeyIds,
  type SecretFacts,
} from "./findings";

export interface HygieneReport {
  at: string;
  secrets: number;
  findings: HygieneFinding[];
  counts: { high: number; medium: number; low: number };
}

export type HygieneDeps = Pick<
  Deps,
  "store" | "consumers" | "secrets" | "exchange" | "ledger" | "alerts" | "clock" | "egressIps"
> & {
  /** The read-policy drift check (`readPolicyDrift`); absent: not checked. */
  policyDrift?: (secretId: string) => Promise<SecretFacts["policyDrift"]>;
  /** What consumers reported (issue 20); absent: usage reporting is not checked. */
  usage?: Pick<UsageStore, "readUsage">;
};

/** How far back the audit looks for usage reports: a week, the audit's own period. */
const USAGE_WINDOW_DAYS = 7;

/**
 * The credential hygiene audit over every enrolled secret (`keyshift hygiene`, and weekly).
 *
 * Input: thresholds, whether to alert. Output: every finding with severity and fix, counted.
 * 1. Gather per secret: settings, rotations, consumers and instances, the recorded versions' key ids
 *    and declared scope (no secret value is read), the account's keys as the exchange lists them
 *    (once per account), the ledger, the read-policy drift.
 * 2. Judge with `judgeSecret` (pure rules, `core/hygiene/findings.ts`).
 * 3. With `alert`, one SNS alert listing the high and medium findings (none when clean).
 * A failure to gather one secret's facts is itself a finding, so one broken secret does not hide
 * the others.
 */
export async function hygieneAudit(
  input: { thresholds?: Partial<HygieneThresholds>; alert?: boolean },
  deps: HygieneDeps,
): Promise<HygieneReport> {
  const now = deps.clock.now();
  const thresholds = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  const all = await deps.store.listSettings();
  const ledger = await deps.ledger.listAll();
  const listings = new Map<string, Promise<SecretFacts["exchange"]>>();
  const listingOf = (account: string) => {
    let found = listings.get(account);
    if (!found) {
      found = Promise.all([deps.exchange.listKeys(account), deps.exchange.capabilities(account)]).then(
        ([l, caps]) => ({
          keys: l.keys,
          ...(caps.unboundKeyExpiry ? { unboundKeyExpiry: caps.unboundKeyExpiry } : {}),
        }),
        (err: unknown) => ({
          error: sanitizeErrorMessage(err, 200),
          ...(err instanceof ExchangeIpRefusedError ? { ipRefused: true } : {}),
        }),
      );
      listings.set(account, found);
    }
    return found;
  };
  // Read once: each secret's versions are its own facts and the other secrets' "not an orphan".
  const versionsOf = new Map<string, VersionFingerprints | undefined>();
  for (const settings of all)
    versionsOf.set(settings.secretId, await deps.store.getVersions(settings.secretId));

  const findings: HygieneFinding[] = [];
  for (const settings of all) {
    const { secretId, exchangeAccount } = settings;
    try {
      const facts: SecretFacts = {
        settings,
        rotations: await deps.store.listRotations(secretId),
        versions: versionsOf.get(secretId),
        consumers: await deps.consumers.listConsumers(secretId),
        instances: await deps.consumers.listInstances(secretId),
        exchange: await listingOf(exchangeAccount),
        ledger: ledger.filter((e) => e.exchangeAccount === exchangeAccount),
        otherSecretsKeyIds: all
          .filter((s) => s.exchangeAccount === exchangeAccount && s.secretId !== secretId)
          .flatMap((s) => recordedKeyIds(versionsOf.get(s.secretId))),
        policyDrift: deps.policyDrift ? await deps.policyDrift(secretId) : [],
        egressIps: deps.egressIps,
        ...(deps.usage ? { usage: await usageFacts(deps.usage, secretId, now) } : {}),
      };
      findings.push(...judgeSecret(facts, now, thresholds));
    } catch (err) {
      findings.push({
        secretId,
        kind: "rotation-stuck",
        severity: "high",
        message: `the audit could not read this secret's state: ${sanitizeErrorMessage(err, 200)}`,
        fix: `keyshift status ${secretId}`,
      });
    }
  }
  const counts = {
    high: findings.filter((f) => f.severity === "high").length,
    medium: findings.filter((f) => f.severity === "medium").length,
    low: findings.filter((f) => f.severity === "low").length,
  };
  const report = { at: now.toISOString(), secrets: all.length, findings, counts };
  if (input.alert) await alertFindings(report, deps);
  return report;
}

/** One SNS alert listing the high and medium findings (the first 20); none when there are none. */
async function alertFindings(report: HygieneReport, deps: Pick<HygieneDeps, "alerts">): Promise<void> {
  const { counts, findings } = report;
  if (counts.high + counts.medium === 0) return;
  const worst = findings.filter((f) => f.severity !== "low").slice(0, 20);
  await deps.alerts.send({
    kind: "hygiene-findings",
    secretId: "_system",
    subject: `keyshift hygiene: ${counts.high} high, ${counts.medium} medium finding(s) over ${report.secrets} secret(s)`,
    details: {
      findings: worst.map((f) => `${f.severity} ${f.kind} ${f.secretId}: ${f.message} -> ${f.fix}`),
      action: "`keyshift hygiene` lists every finding with the command that fixes it",
    },
  });
}

async function usageFacts(usage: Pick<UsageStore, "readUsage">, secretId: string, now: Date) {
  const to = hourOf(now.getTime()) + 1;
  const items = await usage.readUsage(secretId, to - USAGE_WINDOW_DAYS * 24, to);
  return { keyHours: items.length, windowDays: USAGE_WINDOW_DAYS };
}
