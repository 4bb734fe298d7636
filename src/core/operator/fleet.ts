import { runBounded } from "../bounded";
import type { Deps } from "../deps";
import { type BindingVerdict, judgeBinding } from "../ip-binding";
import type { RotationRecord, SecretSettings, VersionRef } from "../model";
import { readinessOfRecorded } from "../revocation/readiness";
import { lockStatus } from "../rotation/lock";

export interface RotationSummary {
  rotationId: string;
  trigger: RotationRecord["trigger"];
  phase: RotationRecord["phase"];
  startedAt: string;
  /** When the record last changed: for a finished rotation, when it finished. */
  updatedAt: string;
  outcome: string | null;
}

export interface SecretOverview {
  secretId: string;
  exchangeAccount: string;
  /** The lock's state: `free` (no rotation), `running`, `stalled`, or `execution-lost`. */
  state: ReturnType<typeof lockStatus>["state"];
  /** What to do about the state, when an operator must act. */
  next: string | null;
  /** The newest rotation, whatever its phase. */
  lastRotation: RotationSummary | null;
  /** The newest rotation that finished with the previous key revoked (or handed to the sweeper). */
  lastCompleted: RotationSummary | null;
  /** When the newest rotation started by the schedule started (a rate schedule's next run follows it). */
  lastScheduledStartAt: string | null;
  consumers: number;
  /** Required consumers not live on the current fingerprint now: who a rotation would wait for. */
  lagging: number;
  /** Ledger entries of this secret not revoked yet, and how many of those need an operator. */
  openRevocations: number;
  needsOperator: number;
  /**
   * The current key's IP binding as keyshift recorded it when it made the key (no exchange call:
   * `list` stays cheap for a large fleet), judged against keyshift's egress; `null` when not
   * recorded (a key made before keyshift rotated it: `keyshift status` asks the exchange).
   */
  ipBinding: { ips: string[]; state: BindingVerdict["state"] } | null;
}

/** Secrets read at once; a fleet of hundreds should not open thousands of requests together. */
const CONCURRENCY = 8;

/** Secrets per page when the caller does not say. */
export const DEFAULT_PAGE = 100;

export interface FleetPage {
  /** This page's secrets, sorted by secret id. */
  secrets: SecretOverview[];
  /** Continues after this page; absent on the last one. */
  nextToken?: string;
}

/**
 * One page of the enrolled secrets at a glance (`keyshift list`), read-only. A page costs its own
 * secrets' reads, never the fleet's: no Scan of the ledger, no read of the secrets on other pages.
 *
 * Input: page size, and the token of the page before. Output: the page's overviews and the next token.
 * 1. One page of enrolled secrets (`listSettingsPage`).
 * 2. Per secret, `CONCURRENCY` at once: lock (and its holder's phase), rotations, consumers and
 *    instances, versions, its ledger entries (the by-secret index).
 * 3. Lagging = the gate's answer against the current fingerprint, as if a rotation asked now.
 */
export async function fleetOverview(
  deps: Pick<Deps, "store" | "lock" | "consumers" | "ledger" | "clock" | "egressIps">,
  page: { limit?: number; nextToken?: string } = {},
): Promise<FleetPage> {
  const listed = await deps.store.listSettingsPage({
    limit: page.limit ?? DEFAULT_PAGE,
    ...(page.nextToken ? { cursor: page.nextToken } : {}),
  });
  const now = deps.clock.now();
  const out = new Map<string, SecretOverview>();
  await runBounded(listed.settings, CONCURRENCY, async (s) => {
    out.set(s.secretId, await overviewOf(s, now, deps));
  });
  const secrets = [...out.values()].sort((a, b) => a.secretId.localeCompare(b.secretId));
  return listed.cursor ? { secrets, nextToken: listed.cursor } : { secrets };
}

async function overviewOf(
  settings: SecretSettings,
  now: Date,
  deps: Pick<Deps, "store" | "lock" | "consumers" | "ledger" | "egressIps">,
): Promise<SecretOverview> {
  const { secretId } = settings;
  const [lock, rotations, consumers, instances, versions, ledger] = await Promise.all([
    deps.lock.get(secretId),
    deps.store.listRotations(secretId),
    deps.consumers.listConsumers(secretId),
    deps.consumers.listInstances(secretId),
    deps.store.getVersions(secretId),
    deps.ledger.listBySecret(secretId),
  ]);
  const newestFirst = [...rotations].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const holder = lock ? rotations.find((r) => r.rotationId === lock.rotationId) : undefined;
  const status = lockStatus(lock, holder, now);
  const readiness = readinessOfRecorded({ consumers, instances, versions, settings, now });
  const open = ledger.filter((e) => e.status !== "revoked");
  const completed = newestFirst.find((r) => r.phase === "completed" || r.phase === "force-revoked");
  return {
    secretId,
    exchangeAccount: settings.exchangeAccount,
    state: status.state,
    next: status.next ?? null,
    lastRotation: summaryOf(newestFirst[0]),
    lastCompleted: summaryOf(completed),
    lastScheduledStartAt: newestFirst.find((r) => r.trigger === "schedule")?.startedAt ?? null,
    consumers: consumers.length,
    lagging: readiness?.lagging.length ?? consumers.filter((c) => c.required).length,
    openRevocations: open.length,
    needsOperator: open.filter((e) => e.needsOperator).length,
    ipBinding: recordedBinding(versions?.current, deps.egressIps),
  };
}

function recordedBinding(
  current: VersionRef | undefined,
  egressIps: readonly string[] | undefined,
): SecretOverview["ipBinding"] {
  // Recorded by CreateNext from the exchange's listing (`[]`: unbound); absent on a key keyshift
  // did not make.
  const ips = current?.ipAllowlist;
  if (!ips) return null;
  return { ips, state: judgeBinding(ips, egressIps).state };
}

function summaryOf(rotation: RotationRecord | undefined): RotationSummary | null {
  if (!rotation) return null;
  return {
    rotationId: rotation.rotationId,
    trigger: rotation.trigger,
    phase: rotation.phase,
    startedAt: rotation.startedAt,
    updatedAt: rotation.updatedAt,
    outcome: rotation.outcome ?? null,
  };
}
