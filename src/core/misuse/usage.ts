/**
 * What consumers report they did (issue 20, deliverable 1): per instance, per UTC hour and per key
 * held (its fingerprint), requests per endpoint class and authentication failures. The counts ride
 * on heartbeats (`usage` in the body, docs/heartbeat-protocol.md) and are stored per secret × key ×
 * hour (`UsageStore`), where the detector reads them as the consumer side of reconciliation.
 */
import type { VersionFingerprints } from "../model";
import { type ConsumerReport, ENDPOINT_CLASSES, type EndpointClass, HOUR_MS, hourOf } from "./model";

/** Why the exchange refused a consumer's request. `ip-not-allowed`: the key's IP allow-list. */
export const AUTH_FAILURE_KINDS = ["invalid-key", "ip-not-allowed", "permission-denied", "other"] as const;
export type AuthFailureKind = (typeof AUTH_FAILURE_KINDS)[number];

/** Hours one heartbeat may carry: keeps the body under its 4096 bytes whatever the counts. */
export const MAX_USAGE_HOURS_PER_HEARTBEAT = 4;
/** Largest count of one class in one hour (a billion requests an hour is no trading service). */
export const MAX_USAGE_COUNT = 1_000_000_000;
/** Usage items live nine weeks: the rate rule's eight weeks of history and the hour being judged. */
export const USAGE_RETENTION_HOURS = 9 * 7 * 24;
/** An hour more than this far ahead of the server's clock is a consumer's broken clock: ignored. */
const FUTURE_TOLERANCE_HOURS = 1;

/** One hour of one instance's usage of one key, as the heartbeat carries it. */
export interface UsageHour {
  /** Start of the UTC hour, epoch hours. */
  hour: number;
  fingerprint: string;
  requests: Partial<Record<EndpointClass, number>>;
  authFailures: Partial<Record<AuthFailureKind, number>>;
}

/** What one heartbeat adds to one secret × key × hour item. */
export interface UsageRecord extends UsageHour {
  secretId: string;
  consumerId: string;
  /** The exchange key id of `fingerprint`, when the recorded versions know it. */
  keyId?: string;
  /** The instance's source IP as the front door saw it. */
  sourceIp?: string;
  /** When the item stops being needed (TTL), epoch seconds. */
  expiresAt: number;
}

/** A stored secret × key × hour item: every instance's reports of that hour added up. */
export interface StoredUsage extends UsageHour {
  secretId: string;
  keyId?: string;
  consumerIds: string[];
  sourceIps: string[];
}

/**
 * The hours of a heartbeat's usage worth storing, each tied to its key where the recorded versions
 * know the fingerprint. An hour beyond the retention or ahead of the clock is dropped (and
 * counted), never refused: a consumer's clock must not cost it its heartbeat.
 */
export function usageRecordsOf(
  hours: readonly UsageHour[],
  ctx: {
    secretId: string;
    consumerId: string;
    sourceIp?: string | undefined;
    versions: VersionFingerprints | undefined;
    now: Date;
  },
): { records: UsageRecord[]; ignored: number } {
  const nowHour = hourOf(ctx.now.getTime());
  const records: UsageRecord[] = [];
  for (const h of hours) {
    if (h.hour > nowHour + FUTURE_TOLERANCE_HOURS || h.hour <= nowHour - USAGE_RETENTION_HOURS) continue;
    if (isEmpty(h)) continue;
    const keyId = keyIdOf(h.fingerprint, ctx.versions);
    records.push({
      ...h,
      secretId: ctx.secretId,
      consumerId: ctx.consumerId,
      ...(keyId ? { keyId } : {}),
      ...(ctx.sourceIp ? { sourceIp: ctx.sourceIp } : {}),
      expiresAt: ((h.hour + USAGE_RETENTION_HOURS) * HOUR_MS) / 1000,
    });
  }
  return { records, ignored: hours.length - records.length };
}

/**
 * The detector's consumer side from stored items: one report per key × hour × class. An item whose
 * fingerprint no recorded version named keeps the fingerprint as its key id (the detector then
 * sees a key the exchange never names: nothing is reconciled against it, nothing is lost).
 */
export function consumerReportsOf(items: readonly StoredUsage[]): ConsumerReport[] {
  const reports: ConsumerReport[] = [];
  for (const item of items) {
    for (const endpointClass of ENDPOINT_CLASSES) {
      const count = item.requests[endpointClass];
      if (!count) continue;
      reports.push({
        hour: item.hour,
        secretId: item.secretId,
        keyId: item.keyId ?? item.fingerprint,
        consumerId: item.consumerIds.join(",") || "?",
        endpointClass,
        count,
      });
    }
  }
  return reports;
}

function keyIdOf(fp: string, versions: VersionFingerprints | undefined): string | undefined {
  for (const ref of [versions?.current, versions?.previous, versions?.next]) {
    if (ref?.fingerprint === fp) return ref.exchangeKeyId;
  }
  return undefined;
}

function isEmpty(h: UsageHour): boolean {
  return !Object.values(h.requests).some((n) => n) && !Object.values(h.authFailures).some((n) => n);
}
