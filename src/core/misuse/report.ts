import { InvalidInputError } from "../errors";
import type { VersionFingerprints } from "../model";
import type { AuditLog, Clock, MisuseAckStore, RotationStore, UsageStore } from "../ports";
import { detectSecret } from "./detect";
import { findingId } from "./finding-id";
import {
  DEFAULT_PARAMS,
  type EndpointClass,
  type ExchangeActivity,
  type Finding,
  hourIso,
  hourOf,
  type Learning,
  type RotationEvent,
  WEEK_HOURS,
} from "./model";
import { secretsByAccount } from "./pull";
import { type RetiredKeySightingsDeps, sightingsBySecret, uniqueFindings } from "./retired-keys";
import { consumerReportsOf, USAGE_RETENTION_HOURS } from "./usage";

/** An operator's acknowledgement of one finding: it is not reported as open until `until`. */
export interface MisuseAck {
  secretId: string;
  findingId: string;
  kind: Finding["kind"];
  keyId: string;
  /** The finding's hour, ISO. */
  hour: string;
  reason: string;
  /** The authenticated principal who acknowledged it. */
  actor: string;
  at: string;
  until: string;
}

export interface MisuseReportDeps {
  store: Pick<RotationStore, "listSettings" | "getVersions">;
  usage: Pick<UsageStore, "readUsage">;
  acks: Pick<MisuseAckStore, "listAcks">;
  clock: Clock;
  /**
   * What the exchange saw an account's keys do in [fromHour, toHour), given the enrolled secrets
   * that use the account; `undefined`: nothing stored for that account (an exchange the hourly
   * pull cannot read, or not pulled yet). Absent: nothing is stored anywhere, which the report
   * says per account. Wired to the pulled sums by `storedExchangeSide` (pull.ts).
   */
  exchangeActivity?: (
    account: string,
    fromHour: number,
    toHour: number,
    secretIds: readonly string[],
  ) => Promise<ExchangeActivity[] | undefined>;
  /**
   * The ledger and the exchanges, to ask each exchange that reports a key's last use whether a
   * retired key authenticated after its retirement (`retired-keys.ts`). Absent: not asked.
   */
  retiredKeys?: RetiredKeySightingsDeps;
}

export { findingId };

export interface ReportedFinding extends Finding {
  /** Stable across runs: what `keyshift misuse ack` takes. */
  id: string;
  acknowledged?: Pick<MisuseAck, "reason" | "actor" | "at" | "until">;
}

export interface MisuseReportOutput {
  since: string;
  at: string;
  /** Open findings, oldest hour first. */
  findings: ReportedFinding[];
  /** Findings an unexpired ack covers. */
  acknowledged: ReportedFinding[];
  learning: Learning[];
  /**
   * Per exchange account: whether anything the exchange saw is stored to reconcile with;
   * `unattributed`: stored, but two or more enrolled secrets use the account and the exchange
   * reports per account only, so none of them is judged on it (every exchange whose side is stored
   * today reports per account: one that names keys would be attributed by the keys' secrets).
   */
  accounts: Array<{
    account: string;
    secrets: string[];
    exchangeSide: "stored" | "none-stored" | "unattributed";
  }>;
  /** Per secret: what its consumers reported since `since`, the open hour included (key-hours, requests, auth failures). */
  consumerSide: Array<{ secretId: string; keyHours: number; requests: number; authFailures: number }>;
  /** Retired keys the exchange saw authenticate after retirement: the finding and the ledger entry to act on. */
  retiredKeysSeen: Array<{ findingId: string; entryId: string; account: string; status: string }>;
  /** Accounts whose keys could not be listed for last use this run: nothing of theirs was judged for it. */
  keyListingFailed: Array<{ account: string; error: string }>;
}

/**
 * The misuse report over stored aggregates (`keyshift misuse report`).
 *
 * Input: `since`. Output: findings in the hours from `since` to the last ended hour, each with an
 * id, acknowledged ones apart; the secrets still learning; what each side has stored.
 * 1. Per enrolled secret: the consumers' usage items over the rate rule's history before `since`
 *    (at most the usage retention), the cut-over the versions record names, the declared scope.
 * 2. Per exchange account, once: the exchange side, if any is stored; none stored is said, not hidden.
 * 3. The detector over each secret (`detectSecret`): the same rules as the hourly run and the replay.
 * 4. Acks still in force move a finding to `acknowledged`.
 */
export async function misuseReport(
  input: { since: Date },
  deps: MisuseReportDeps,
): Promise<MisuseReportOutput> {
  const now = deps.clock.now();
  // The open hour is read too (the consumer side shows it); the detector judges only ended hours.
  const toHour = hourOf(now.getTime()) + 1;
  const fromHour = hourOf(input.since.getTime());
  const historyFrom = Math.max(
    fromHour - DEFAULT_PARAMS.rateWeeks * WEEK_HOURS,
    toHour - 1 - USAGE_RETENTION_HOURS,
  );
  const all = await deps.store.listSettings();
  const sharing = secretsByAccount(all);
  const exchangeOf = new Map<string, Promise<ExchangeActivity[] | undefined>>();
  const out: MisuseReportOutput = {
    since: input.since.toISOString(),
    at: now.toISOString(),
    findings: [],
    acknowledged: [],
    learning: [],
    accounts: [],
    consumerSide: [],
    retiredKeysSeen: [],
    keyListingFailed: [],
  };
  const sighted = await sightingsBySecret(all, fromHour, deps, out);
  for (const settings of all) {
    const { secretId, exchangeAccount } = settings;
    if (!exchangeOf.has(exchangeAccount)) {
      exchangeOf.set(
        exchangeAccount,
        deps.exchangeActivity?.(exchangeAccount, historyFrom, toHour, sharing.get(exchangeAccount) ?? []) ??
          Promise.resolve(undefined),
      );
    }
    const exchange = await exchangeOf.get(exchangeAccount);
    const versions = await deps.store.getVersions(secretId);
    const usage = await deps.usage.readUsage(secretId, historyFrom, toHour);
    out.consumerSide.push(
      consumerSummary(
        secretId,
        usage.filter((u) => u.hour >= fromHour),
      ),
    );
    const shared = (sharing.get(exchangeAccount)?.length ?? 0) > 1;
    noteAccount(
      out.accounts,
      exchangeAccount,
      secretId,
      exchange === undefined ? "none-stored" : shared ? "unattributed" : "stored",
    );
    const report = detectSecret(
      {
        secretId,
        exchange: (exchange ?? []).filter((row) => row.secretId === secretId),
        consumers: consumerReportsOf(usage),
        rotations: rotationEventsOf(secretId, versions),
        scope: scopeOf(versions),
      },
      { now, from: input.since },
    );
    out.learning.push(...report.learning);
    const acks = new Map((await deps.acks.listAcks(secretId)).map((a) => [a.findingId, a]));
    for (const finding of uniqueFindings([...report.findings, ...(sighted.get(secretId) ?? [])])) {
      const id = findingId(finding);
      const ack = acks.get(id);
      if (ack && Date.parse(ack.until) > now.getTime()) {
        const { reason, actor, at, until } = ack;
        out.acknowledged.push({ ...finding, id, acknowledged: { reason, actor, at, until } });
      } else out.findings.push({ ...finding, id });
    }
  }
  return out;
}

/** Longest an ack holds: a finding comes back to be judged again at least this often. */
export const MAX_ACK_DAYS = 90;

/**
 * Acknowledge (suppress) one finding until `until` (`keyshift misuse ack`).
 *
 * Input: the finding's id, a reason, until when, the authenticated principal. Output: the ack.
 * 1. `until` must be in the future and at most `MAX_ACK_DAYS` away.
 * 2. Find the finding among those of the usage retention (nine weeks): an id that names nothing
 *    is refused, so an ack is always about a finding keyshift reported.
 * 3. Audit it in the secret's chain (reason, until, actor) BEFORE the ack is stored: an ack that
 *    suppresses a finding without an entry would be a silent one.
 * 4. Store it; a later ack of the same finding replaces it (and is audited again).
 */
export async function acknowledgeFinding(
  input: { findingId: string; reason: string; until: Date; actor: string },
  deps: MisuseReportDeps & { acks: MisuseAckStore; audit: Pick<AuditLog, "append"> },
): Promise<MisuseAck> {
  const now = deps.clock.now();
  const untilMs = input.until.getTime();
  if (!(untilMs > now.getTime()) || untilMs > now.getTime() + MAX_ACK_DAYS * 86_400_000) {
    throw new InvalidInputError(`--until must be after now and at most ${MAX_ACK_DAYS} days ahead`);
  }
  const since = new Date((hourOf(now.getTime()) - USAGE_RETENTION_HOURS) * 3_600_000);
  const report = await misuseReport({ since }, deps);
  const finding = [...report.findings, ...report.acknowledged].find((f) => f.id === input.findingId);
  if (!finding) {
    throw new InvalidInputError(
      `no finding ${input.findingId} in the last nine weeks: \`keyshift misuse report --since <date>\` lists them with their ids`,
    );
  }
  const ack: MisuseAck = {
    secretId: finding.secretId,
    findingId: finding.id,
    kind: finding.kind,
    keyId: finding.keyId,
    hour: hourIso(finding.hour),
    reason: input.reason,
    actor: input.actor,
    at: now.toISOString(),
    until: input.until.toISOString(),
  };
  await deps.audit.append({
    secretId: finding.secretId,
    actor: input.actor,
    action: "misuse-finding-acknowledged",
    details: {
      findingId: ack.findingId,
      kind: ack.kind,
      severity: finding.severity,
      keyId: ack.keyId,
      hour: ack.hour,
      reason: ack.reason,
      until: ack.until,
    },
  });
  await deps.acks.putAck(ack);
  return ack;
}

/** The cut-over the versions record knows: the previous key retired when the current one was promoted. */
function rotationEventsOf(secretId: string, versions: VersionFingerprints | undefined): RotationEvent[] {
  const { current, previous, promotedAt } = versions ?? {};
  if (!current || !previous || !promotedAt) return [];
  return [
    {
      atMs: Date.parse(promotedAt),
      secretId,
      currentKeyId: current.exchangeKeyId,
      retiredKeyIds: [previous.exchangeKeyId],
    },
  ];
}

/**
 * Fund movement the key is declared for, from its recorded permissions (exchange words: `withdraw`,
 * `Withdraw`, `transfer`, `Transfer`…). Without recorded permissions: a trading key (neither).
 */
function scopeOf(versions: VersionFingerprints | undefined): EndpointClass[] | undefined {
  const permissions = versions?.current?.permissions;
  if (!permissions) return undefined;
  const words = permissions.join(" ").toLowerCase();
  const scope: EndpointClass[] = [];
  if (words.includes("withdraw")) scope.push("withdrawal");
  if (words.includes("transfer")) scope.push("transfer");
  return scope;
}

function consumerSummary(secretId: string, usage: Awaited<ReturnType<UsageStore["readUsage"]>>) {
  let requests = 0;
  let authFailures = 0;
  for (const item of usage) {
    for (const n of Object.values(item.requests)) requests += n ?? 0;
    for (const n of Object.values(item.authFailures)) authFailures += n ?? 0;
  }
  return { secretId, keyHours: usage.length, requests, authFailures };
}

function noteAccount(
  accounts: MisuseReportOutput["accounts"],
  account: string,
  secretId: string,
  exchangeSide: MisuseReportOutput["accounts"][number]["exchangeSide"],
) {
  const found = accounts.find((a) => a.account === account);
  if (found) found.secrets.push(secretId);
  else accounts.push({ account, secrets: [secretId], exchangeSide });
}
