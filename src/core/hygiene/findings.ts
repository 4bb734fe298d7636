import type {
  ConsumerInstance,
  ConsumerRegistration,
  LedgerEntry,
  RotationRecord,
  SecretSettings,
  VersionFingerprints,
} from "../model";
import type { ExchangeKey } from "../ports";
import { scheduleIntervalSeconds } from "../schedule";
import { type BindingFacts, judgeAdminRefusal, judgeBindings } from "./binding-findings";
import { judgeLedger } from "./ledger-findings";
import { DEFAULT_THRESHOLDS, type HygieneThresholds } from "./thresholds";
import { judgeActivityGaps, judgeSharedAccount, judgeUsageReporting } from "./usage-findings";

export { DEFAULT_THRESHOLDS, type HygieneThresholds };

export type Severity = "high" | "medium" | "low";

export type FindingKind =
  | "rotation-overdue"
  | "never-rotated"
  | "schedule-disabled"
  | "schedule-missing"
  | "schedule-drift"
  | "schedule-orphan"
  | "rotation-stuck"
  | "silent-consumer"
  | "read-policy-drift"
  | "read-policy-unguarded"
  | "orphan-key"
  | "scope-broader"
  | "key-expiring"
  | "ip-binding-lacks-egress"
  | "unbound-key-expires"
  | "admin-ip-refused"
  | "ledger-needs-operator"
  | "manual-deletion-overdue"
  | "manual-deletion-pending"
  | "emergency-unreviewed"
  | "no-usage-reporting"
  | "shared-exchange-account"
  | "exchange-activity-partial";

export interface HygieneFinding {
  secretId: string;
  kind: FindingKind;
  severity: Severity;
  message: string;
  /** The command (or the manual step) that fixes it. */
  fix: string;
}

/** Everything the audit knows about one enrolled secret; gathered by `hygieneAudit`. */
export interface SecretFacts {
  settings: SecretSettings;
  rotations: RotationRecord[];
  versions: VersionFingerprints | undefined;
  consumers: ConsumerRegistration[];
  instances: ConsumerInstance[];
  /**
   * The account's keys as the exchange lists them (with what its exchange does to unbound keys),
   * or the error that stopped the listing (`ipRefused`: the exchange refused keyshift's address).
   */
  exchange:
    | {
        keys: ExchangeKey[];
        unboundKeyExpiry?: string;
        activityAttribution?: "key" | "account";
        /** What the hourly pull cannot read on the account as set up (`Exchange.activityGaps`). */
        activityGaps?: string[];
      }
    | { error: string; ipRefused?: boolean }
    /** A manual account (Kraken): no API lists its keys; only a person sees them. */
    | { manual: true };
  /** keyshift's fixed egress IPs (`Deps.egressIps`); absent without one. */
  egressIps?: readonly string[] | undefined;
  /** Ledger entries of the secret's exchange account (all secrets of the account). */
  ledger: LedgerEntry[];
  /** Other enrolled secrets' key ids on the same account: their keys are not this secret's orphans. */
  otherSecretsKeyIds: string[];
  /** What the read-policy check found (empty: the policy is the registry's). */
  policyDrift: Array<{ kind?: string; message: string; severity: Severity; fix: string }>;
  /** Usage items (key × hour) the consumers reported over the last `windowDays`; absent: not checked. */
  usage?: { keyHours: number; windowDays: number };
  /** Other enrolled secrets on the account, when its exchange reports use per account only (issue 20). */
  sharingAccount?: string[];
}

const DAY = 86_400_000;
const days = (ms: number) => Math.floor(ms / DAY);

/**
 * Key ids the secret's recorded versions (previous, current, next) hold — from the versions record,
 * never from a secret value: the read policy lets only consumers and CreateNext read those.
 */
export function recordedKeyIds(versions: VersionFingerprints | undefined): string[] {
  return [versions?.previous, versions?.current, versions?.next].flatMap((r) => (r ? [r.exchangeKeyId] : []));
}

/**
 * The secret's last successful rotation (operator markers aside), when it was (enrollment if never),
 * and how often its schedule asks for one: what "overdue" and "expires before the next rotation"
 * are judged by, in the audit and in `keyshift status`.
 */
export function rotationCadence(
  settings: Pick<SecretSettings, "schedule" | "enrolledAt">,
  rotations: RotationRecord[],
): { last: RotationRecord | undefined; since: number; interval: number | undefined } {
  const last = rotations
    .filter((r) => r.phase === "completed" && r.trigger !== "operator")
    .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
    .at(-1);
  return {
    last,
    since: Date.parse(last?.updatedAt ?? settings.enrolledAt),
    interval: settings.schedule ? scheduleIntervalSeconds(settings.schedule) : undefined,
  };
}

/**
 * The credential hygiene rules, one secret at a time (the article's audit: is the owning service
 * still running, is the rotation schedule current, does the access scope still match). Pure: the
 * use case gathers the facts, this judges them; each finding carries its severity and its fix.
 */
export function judgeSecret(
  facts: SecretFacts,
  now: Date,
  t: HygieneThresholds = DEFAULT_THRESHOLDS,
): HygieneFinding[] {
  const secretId = facts.settings.secretId;
  const out: HygieneFinding[] = [];
  const add: Add = (kind, severity, message, fix) => out.push({ secretId, kind, severity, message, fix });
  const cadence = rotationCadence(facts.settings, facts.rotations);
  judgeSchedule(facts, cadence, now, add);
  judgeConsumers(facts, now, t, add);
  judgeUsageReporting(facts, now, add);
  judgeSharedAccount(facts, add);
  judgeActivityGaps(facts, add);
  for (const drift of facts.policyDrift) {
    // A policy that no longer guards itself is its own finding: anyone allowed to remove it can read.
    const unguarded = drift.kind === "guard-missing" || drift.kind === "guard-changed";
    add(
      unguarded ? "read-policy-unguarded" : "read-policy-drift",
      unguarded ? "high" : drift.severity,
      `${unguarded ? "read policy does not guard itself" : "read policy differs from the registry"}: ${drift.message}`,
      drift.fix.replaceAll("<secretId>", secretId),
    );
  }
  if ("manual" in facts.exchange) {
    // Nothing to list: the ledger (below) says which deletions a person still owes.
  } else if ("error" in facts.exchange && facts.exchange.ipRefused) {
    judgeAdminRefusal(facts, facts.exchange.error, facts.egressIps, add);
  } else if ("error" in facts.exchange) {
    add(
      "orphan-key",
      "medium",
      `cannot list the exchange account's keys: ${facts.exchange.error}`,
      "fix the admin secret, then run the audit again",
    );
  } else {
    judgeOrphans(facts, facts.exchange.keys, add);
    judgeCurrentKey(facts, facts.exchange.keys, cadence, now, t, add);
    judgeBindings(facts, facts.exchange.keys, bindingFactsOf(facts), add);
  }
  judgeLedger(facts, now, t, add);
  return out;
}

export type Add = (kind: FindingKind, severity: Severity, message: string, fix: string) => void;

function bindingFactsOf(facts: SecretFacts): BindingFacts {
  const listing = facts.exchange;
  return {
    egressIps: facts.egressIps,
    unboundKeyExpiry: "keys" in listing ? listing.unboundKeyExpiry : undefined,
  };
}
type Cadence = ReturnType<typeof rotationCadence>;

/** Rotation schedule: is it on, is the last success recent enough, is a rotation stuck? */
function judgeSchedule(facts: SecretFacts, cadence: Cadence, now: Date, add: Add): void {
  const { settings } = facts;
  const secretId = settings.secretId;
  const { last, since, interval } = cadence;
  if (settings.scheduleEnabled === false) {
    add(
      "schedule-disabled",
      "medium",
      `the rotation schedule ${settings.schedule ?? ""} is disabled`,
      "set enabled: true in rotation.config.yml, then keyshift apply (no deploy: the schedule is made at run time)",
    );
  }
  if (interval !== undefined) {
    const ageSeconds = (now.getTime() - since) / 1000;
    if (ageSeconds > interval) {
      const severity: Severity = ageSeconds > 2 * interval ? "high" : "medium";
      add(
        last ? "rotation-overdue" : "never-rotated",
        severity,
        last
          ? `last successful rotation ${days(now.getTime() - since)} day(s) ago (${last.rotationId}), schedule ${settings.schedule}`
          : `never rotated since enrollment ${days(now.getTime() - since)} day(s) ago, schedule ${settings.schedule}`,
        `keyshift rotate ${secretId} --wait`,
      );
    }
  }
  const stuck = facts.rotations.find((r) => r.phase === "stalled" || r.phase === "promoting");
  if (stuck) {
    add(
      "rotation-stuck",
      "high",
      `rotation ${stuck.rotationId} is ${stuck.phase}`,
      `keyshift status ${secretId}, then keyshift resume ${secretId}`,
    );
  }
}

/** Consumers registered but silent for days: decommissioned, or broken? */
function judgeConsumers(facts: SecretFacts, now: Date, t: HygieneThresholds, add: Add): void {
  const secretId = facts.settings.secretId;
  for (const consumer of facts.consumers) {
    const seen = facts.instances
      .filter((i) => i.consumerId === consumer.consumerId)
      .map((i) => Date.parse(i.lastSeenAt))
      .sort((a, b) => b - a)[0];
    const silentMs = now.getTime() - (seen ?? Date.parse(consumer.registeredAt));
    if (silentMs > t.silentConsumerDays * DAY) {
      add(
        "silent-consumer",
        consumer.required ? "medium" : "low",
        `consumer ${consumer.consumerId} has not heartbeated for ${days(silentMs)} day(s)${seen ? "" : " (never)"}: decommissioned?` +
          (consumer.required ? " A required consumer that stays silent stalls every rotation." : ""),
        `keyshift consumers remove ${secretId} ${consumer.consumerId} --reason "decommissioned"`,
      );
    }
  }
}

/** Keys on the account referenced by no secret version and no open ledger entry. */
function judgeOrphans(facts: SecretFacts, keys: ExchangeKey[], add: Add): void {
  const { settings } = facts;
  const secretId = settings.secretId;
  const tracked = new Set([
    ...recordedKeyIds(facts.versions),
    ...facts.otherSecretsKeyIds,
    ...facts.ledger.filter((e) => e.status !== "revoked").map((e) => e.keyId),
  ]);
  for (const key of keys.filter((k) => !tracked.has(k.keyId))) {
    add(
      "orphan-key",
      "high",
      `key ${key.keyId} (${key.status}, label ${key.label}, created ${key.createdAt}) on ${settings.exchangeAccount} is referenced by no secret version and no ledger entry`,
      `check who uses it; then remove it on the exchange (a ks_ label is a crashed rotation's key: \`keyshift status ${secretId}\`)`,
    );
  }
}

/** The current key as the exchange lists it: scope beyond what the secret declares, an expiry coming first. */
function judgeCurrentKey(
  facts: SecretFacts,
  keys: ExchangeKey[],
  { since, interval }: Cadence,
  now: Date,
  t: HygieneThresholds,
  add: Add,
): void {
  const secretId = facts.settings.secretId;
  const versionKeyIds = recordedKeyIds(facts.versions);
  const current = facts.versions?.current?.exchangeKeyId;
  const listed = keys.find((k) => k.keyId === current);
  const declaredPermissions = facts.versions?.current?.permissions;
  if (listed && declaredPermissions) {
    const declared = new Set(declaredPermissions);
    // A `<group>:none` token grants nothing (the port's convention): echoed or not, it is no scope.
    const extra = listed.permissions.filter((p) => !declared.has(p) && !p.endsWith(":none"));
    if (extra.length > 0) {
      add(
        "scope-broader",
        "high",
        `current key ${listed.keyId} has scope beyond what the secret declares: ${extra.join(", ")}`,
        `narrow the key's scope on the exchange, or record the intended scope, then keyshift rotate ${secretId}`,
      );
    }
  }
  for (const key of keys.filter((k) => k.expiresAt && versionKeyIds.includes(k.keyId))) {
    const left = Date.parse(key.expiresAt ?? "") - now.getTime();
    const nextRotationMs = interval !== undefined ? since + interval * 1000 - now.getTime() : undefined;
    const beforeNext = nextRotationMs !== undefined && left < nextRotationMs;
    if (key.keyId === current && (beforeNext || left < t.expiryWarningDays * DAY)) {
      add(
        "key-expiring",
        left < 0 || beforeNext ? "high" : "medium",
        `current key ${key.keyId} expires ${key.expiresAt} (in ${days(left)} day(s))${beforeNext ? ", before its next scheduled rotation" : ""}`,
        `keyshift rotate ${secretId} --wait (or bind the key to IPs so the exchange does not expire it)`,
      );
    }
  }
}
