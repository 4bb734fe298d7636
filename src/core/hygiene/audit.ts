import { runBounded } from "../bounded";
import type { Deps } from "../deps";
import { sanitizeErrorMessage } from "../errors";
import type { ConsumerRegistration, LedgerEntry, SecretSettings } from "../model";
import type { OperatorRequests, UsageStore } from "../ports";
import {
  DEFAULT_THRESHOLDS,
  type HygieneFinding,
  type HygieneThresholds,
  judgeSecret,
  recordedKeyIds,
  type SecretFacts,
} from "./findings";
import { accountListings } from "./listings";
import {
  type GroupListing,
  judgeOrphanSchedules,
  readGroup,
  type ScheduleCheck,
  scheduleFindings,
} from "./schedule-findings";
import { sharing, usageFacts } from "./usage-findings";

export interface HygieneReport {
  at: string;
  /** Secrets audited, by this run and the runs it continues. */
  secrets: number;
  /** This run's findings (a continued audit's earlier findings are in `carried.worst` only). */
  findings: HygieneFinding[];
  /** Counted over this run and the runs it continues. */
  counts: HygieneCounts;
  /** Set when the time budget ended the run early: continue after this secret id, with `carried`. */
  cursor?: string;
  /** What the next run of a continued audit needs of this one's (and the earlier runs') findings. */
  carried?: HygieneCarry;
}

export interface HygieneCounts {
  high: number;
  medium: number;
  low: number;
}

/** What a continued audit carries from run to run: small, whatever the fleet (state data is capped). */
export interface HygieneCarry {
  secrets: number;
  counts: HygieneCounts;
  /** The first high and medium findings, for the one alert at the end. */
  worst: HygieneFinding[];
}

export type HygieneDeps = Pick<
  Deps,
  "store" | "consumers" | "secrets" | "exchange" | "ledger" | "alerts" | "clock" | "egressIps"
> & {
  /**
   * The read-policy drift check (`readPolicyDriftOf`), given the registrations already read;
   * absent: not checked.
   */
  policyDrift?: (secretId: string, consumers: ConsumerRegistration[]) => Promise<SecretFacts["policyDrift"]>;
  /** The operator plane's reviews (emergencies nobody else signed off yet); absent: not checked. */
  requests?: OperatorRequests;
  /** What consumers reported (issue 20); absent: usage reporting is not checked. */
  usage?: Pick<UsageStore, "readUsage">;
  /** The run-time schedules' group (core/hygiene/schedule-findings.ts); absent: not checked. */
  scheduleCheck?: ScheduleCheck;
};

export interface HygieneInput {
  thresholds?: Partial<HygieneThresholds>;
  alert?: boolean;
  /** Secrets gathered at once (default 1). */
  concurrency?: number;
  /** Resume after this secret id (ids are audited in order), with what the earlier runs carried. */
  after?: string;
  carried?: HygieneCarry;
  /** Asked before each secret: when true, no further secret is started and the report has a cursor. */
  outOfTime?: () => boolean;
}

/** High and medium findings kept for the alert. */
const ALERTED = 20;

/**
 * The credential hygiene audit over every enrolled secret (`keyshift hygiene`, and weekly).
 *
 * Input: thresholds, whether to alert, how many secrets at once, and where to resume.
 * Output: every finding of this run with severity and fix, counted over the whole audit; a cursor
 * when the time budget ended the run early.
 * 1. Read once: the enrolled secrets (in id order), the ledger (grouped by account), every secret's
 *    versions (its own facts, and the other secrets' "not an orphan", grouped by account), and with
 *    `scheduleCheck` the schedule group (ListSchedules, every page: once per run, so per slice).
 * 2. Per secret after the cursor, up to `concurrency` at once: rotations, consumers and instances,
 *    the account's keys as the exchange lists them (once per account), the read-policy drift; judged
 *    by `judgeSecret` (pure rules, `core/hygiene/findings.ts`); its run-time schedule against its
 *    settings (`core/hygiene/schedule-findings.ts`, a GetSchedule only where a summary cannot tell).
 * 3. When `outOfTime` says so, start no further secret: the report's `cursor` and `carried` let the
 *    next run go on (the audit reads only, so a slice run twice changes nothing but its counts).
 * 4. At the end, with `alert`, one SNS alert listing the high and medium findings (none when clean);
 *    the last run also reports the group's schedules for no enrolled secret.
 * A failure to gather one secret's facts is itself a finding, so one broken secret does not hide
 * the others.
 */
export async function hygieneAudit(input: HygieneInput, deps: HygieneDeps): Promise<HygieneReport> {
  const now = deps.clock.now();
  const thresholds = { ...DEFAULT_THRESHOLDS, ...input.thresholds };
  const fleet = await readFleet(deps, input.concurrency ?? 1);
  const todo = fleet.all.filter((s) => input.after === undefined || s.secretId > input.after);
  const bySecret = new Map<string, HygieneFinding[]>();
  let started = 0;
  const run = await runBounded(
    todo,
    input.concurrency ?? 1,
    async (settings) => {
      bySecret.set(settings.secretId, await auditSecret(settings, fleet, deps, now, thresholds));
    },
    // Every run audits at least one secret, so runs continued from each other always end.
    () => started++ > 0 && (input.outOfTime?.() ?? false),
  );
  // In id order whatever finished first, so a report reads the same from run to run.
  const findings = run.started.flatMap((s) => bySecret.get(s.secretId) ?? []);
  // Once per audit, with its last run: the emergencies nobody else has signed off yet, and the
  // schedules in the group for no enrolled secret.
  if (run.left.length === 0) {
    findings.push(...(await unreviewedEmergencies(deps)));
    if (fleet.group && deps.scheduleCheck)
      findings.push(...judgeOrphanSchedules(fleet.group, fleet.all, deps.scheduleCheck.group));
  }
  const carried = carry(input.carried, run.started.length, findings);
  const last = run.started.at(-1)?.secretId ?? input.after;
  if (run.left.length > 0 && last !== undefined) {
    return {
      at: now.toISOString(),
      secrets: carried.secrets,
      findings,
      counts: carried.counts,
      cursor: last,
      carried,
    };
  }
  if (input.alert && carried.counts.high + carried.counts.medium > 0) await alertFindings(carried, deps);
  return { at: now.toISOString(), secrets: carried.secrets, findings, counts: carried.counts };
}

interface Fleet {
  all: SecretSettings[];
  ledgerByAccount: Map<string, LedgerEntry[]>;
  /** Per account, how many secrets record each key id (a key two secrets record is no orphan of either). */
  keyIdsByAccount: Map<string, Map<string, number>>;
  ownKeyIds: Map<string, string[]>;
  versions: Map<string, SecretFacts["versions"]>;
  listingOf: (account: string) => Promise<SecretFacts["exchange"]>;
  /** The schedule group as this run listed it (once a run, every run: a slice checks its own secrets). */
  group: GroupListing | undefined;
}

async function readFleet(deps: HygieneDeps, concurrency: number): Promise<Fleet> {
  const all = [...(await deps.store.listSettings())].sort((a, b) => (a.secretId < b.secretId ? -1 : 1));
  const ledgerByAccount = new Map<string, LedgerEntry[]>();
  for (const e of await deps.ledger.listAll())
    ledgerByAccount.set(e.exchangeAccount, [...(ledgerByAccount.get(e.exchangeAccount) ?? []), e]);
  const versions = new Map<string, SecretFacts["versions"]>();
  await runBounded(all, concurrency, async (s) => {
    versions.set(s.secretId, await deps.store.getVersions(s.secretId));
  });
  const keyIdsByAccount = new Map<string, Map<string, number>>();
  const ownKeyIds = new Map<string, string[]>();
  for (const s of all) {
    const own = [...new Set(recordedKeyIds(versions.get(s.secretId)))];
    ownKeyIds.set(s.secretId, own);
    const counts = keyIdsByAccount.get(s.exchangeAccount) ?? new Map<string, number>();
    for (const k of own) counts.set(k, (counts.get(k) ?? 0) + 1);
    keyIdsByAccount.set(s.exchangeAccount, counts);
  }
  const listingOf = accountListings(deps);
  const group = deps.scheduleCheck ? await readGroup(deps.scheduleCheck) : undefined;
  return { all, ledgerByAccount, keyIdsByAccount, ownKeyIds, versions, listingOf, group };
}

async function auditSecret(
  settings: SecretSettings,
  fleet: Fleet,
  deps: HygieneDeps,
  now: Date,
  thresholds: HygieneThresholds,
): Promise<HygieneFinding[]> {
  const { secretId, exchangeAccount } = settings;
  try {
    const [rotations, consumers, instances, exchange] = await Promise.all([
      deps.store.listRotations(secretId),
      deps.consumers.listConsumers(secretId),
      deps.consumers.listInstances(secretId),
      fleet.listingOf(exchangeAccount),
    ]);
    const own = new Set(fleet.ownKeyIds.get(secretId));
    const recorded = fleet.keyIdsByAccount.get(exchangeAccount) ?? new Map<string, number>();
    const facts: SecretFacts = {
      settings,
      rotations,
      versions: fleet.versions.get(secretId),
      consumers,
      instances,
      exchange,
      ledger: fleet.ledgerByAccount.get(exchangeAccount) ?? [],
      otherSecretsKeyIds: [...recorded].filter(([k, n]) => n > (own.has(k) ? 1 : 0)).map(([k]) => k),
      policyDrift: deps.policyDrift ? await deps.policyDrift(secretId, consumers) : [],
      egressIps: deps.egressIps,
      ...(deps.usage ? { usage: await usageFacts(deps.usage, secretId, now) } : {}),
      ...sharing(fleet, settings, exchange),
    };
    const schedule =
      fleet.group && deps.scheduleCheck
        ? await scheduleFindings(settings, fleet.group, deps.scheduleCheck, now, fleet.all.length)
        : [];
    return [...judgeSecret(facts, now, thresholds), ...schedule];
  } catch (err) {
    return [
      {
        secretId,
        kind: "rotation-stuck",
        severity: "high",
        message: `the audit could not read this secret's state: ${sanitizeErrorMessage(err, 200)}`,
        fix: `keyshift status ${secretId}`,
      },
    ];
  }
}

function carry(before: HygieneCarry | undefined, secrets: number, findings: HygieneFinding[]): HygieneCarry {
  const count = (s: HygieneFinding["severity"]) => findings.filter((f) => f.severity === s).length;
  const counts = {
    high: (before?.counts.high ?? 0) + count("high"),
    medium: (before?.counts.medium ?? 0) + count("medium"),
    low: (before?.counts.low ?? 0) + count("low"),
  };
  const worst = [...(before?.worst ?? []), ...findings.filter((f) => f.severity !== "low")].slice(0, ALERTED);
  return { secrets: (before?.secrets ?? 0) + secrets, counts, worst };
}

async function alertFindings(carried: HygieneCarry, deps: Pick<HygieneDeps, "alerts">): Promise<void> {
  const { counts } = carried;
  await deps.alerts.send({
    kind: "hygiene-findings",
    secretId: "_system",
    subject: `keyshift hygiene: ${counts.high} high, ${counts.medium} medium finding(s) over ${carried.secrets} secret(s)`,
    details: {
      findings: carried.worst.map((f) => `${f.severity} ${f.kind} ${f.secretId}: ${f.message} -> ${f.fix}`),
      action: "`keyshift hygiene` lists every finding with the command that fixes it",
    },
  });
}

/**
 * An emergency rotation runs without waiting for a second principal (speed is the point), so it is
 * reviewed after the fact: each one nobody else has signed off yet is a finding until someone does.
 */
async function unreviewedEmergencies(deps: HygieneDeps): Promise<HygieneFinding[]> {
  if (!deps.requests) return [];
  return (await deps.requests.list())
    .filter((r) => r.kind === "review" && r.status === "review-open")
    .map((r) => ({
      secretId: r.secretId ?? "_system",
      kind: "emergency-unreviewed" as const,
      severity: "medium" as const,
      message: `${r.command} by ${r.requester} at ${r.createdAt} (${r.reason}) is not signed off by a second principal`,
      fix: `keyshift approvals sign-off ${r.requestId} (by a principal other than ${r.requester})`,
    }));
}
