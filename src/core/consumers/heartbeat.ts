import { HEARTBEAT_REJECTIONS_STREAM, instanceAuditStream } from "../audit/chain";
import { PrincipalNotAllowedError } from "../errors";
import { type UsageHour, usageRecordsOf } from "../misuse/usage";
import type { ConsumerRegistration, SecretState, VersionFingerprints } from "../model";
import type { Alerts, AuditLog, Clock, ConsumerRegistry, RotationStore, UsageStore } from "../ports";
import { principalKey } from "../principal";
import { expectedBy, type HeartbeatStatus, nextHeartbeatSeconds } from "./heartbeat-policy";
import type { RejectionLimiter } from "./rejection-limiter";

export type { HeartbeatStatus } from "./heartbeat-policy";

export interface HeartbeatInput {
  /** The caller's IAM principal from the front door's request context, never from the body. */
  callerArn: string;
  secretId: string;
  fingerprint: string;
  instanceId: string;
  /** The caller's source IP from the front door's request context (absent: it gave none). */
  sourceIp?: string | undefined;
  /** Hours of usage the instance reports with this heartbeat (issue 20; absent: none). */
  usage?: UsageHour[] | undefined;
}

export interface HeartbeatOutput {
  status: HeartbeatStatus;
  consumerId: string;
  /** `stale`: refresh the cached secret now, don't wait for the cache TTL. */
  refreshNow: boolean;
  currentFingerprint: string | null;
  /** When to come back: slow while nothing happens, fast while a rotation waits, 0 on `stale`. */
  nextHeartbeatSeconds: number;
  /** Only when the heartbeat carried usage: hours stored, and hours dropped (too old, in the future, empty). */
  usage?: { recorded: number; ignored: number };
}

/** The ports the heartbeat uses: its own composition builds only these (src/commons/heartbeat-deps.ts). */
export interface HeartbeatDeps {
  consumers: Pick<ConsumerRegistry, "listByPrincipal" | "touchInstance" | "getInstance" | "putInstance">;
  store: Pick<RotationStore, "getSecretState">;
  audit: Pick<AuditLog, "append">;
  alerts: Alerts;
  clock: Clock;
  /** Which rejections are audited (one per container); absent: every one is. */
  rejections?: RejectionLimiter;
  /** Where reported usage goes; absent: usage is answered as ignored. */
  usage?: Pick<UsageStore, "addUsage">;
}

/**
 * A consumer instance reports the fingerprint it holds.
 *
 * Input: caller principal, secret id, fingerprint, instance id. Output: current / stale / unknown
 * and when to come back.
 * 1. Resolve the consumer from the caller's principal; not registered for this secret →
 *    `PrincipalNotAllowedError` (403), audited in the rejections stream at most once per window per
 *    principal (`RejectionLimiter`), never in the secret's chain; nothing else written, no alert.
 * 2. Classify the fingerprint against the recorded versions (no secret value is read) and decide
 *    the next interval (`nextHeartbeatSeconds`); the instance is expected back by then.
 * 3. Steady state — same fingerprint as stored: one conditional write moves `lastSeenAt` and
 *    `expectedBy`. Done.
 * 4. New instance or changed fingerprint: re-read the secret's state consistently, classify again,
 *    audit the change in the instance's own stream (an `unknown` one is also alerted), and only
 *    then write the row, anchored to that entry — a failure before the write leaves the old
 *    fingerprint stored, so the retry reports the change again (at least once).
 * 5. Usage, only when the body carries it: one ADD per hour carried, to the secret × key × hour
 *    item, last — a failure answers 500 and the consumer sends the same counts again.
 */
export async function heartbeat(input: HeartbeatInput, deps: HeartbeatDeps): Promise<HeartbeatOutput> {
  // A principal that is not an IAM role or user (federated, root, service) can never be registered.
  const key = principalKeyOrUndefined(input.callerArn);
  const registration = key
    ? ((await registrationFor(key, input.secretId, deps)) ??
      // Not in what the container knows: perhaps registered a moment ago (a bounded re-read).
      (await registrationFor(key, input.secretId, deps, { recheck: true })))
    : undefined;
  if (!registration) return reject(input, key, deps);

  const now = deps.clock.now();
  const cached = await deps.store.getSecretState(input.secretId);
  const steady = judge(input.fingerprint, cached, now);
  const touched = await deps.consumers.touchInstance({
    secretId: input.secretId,
    consumerId: registration.consumerId,
    instanceId: input.instanceId,
    fingerprint: input.fingerprint,
    lastSeenAt: now.toISOString(),
    expectedBy: expectedBy(now, steady.next),
    ...(input.sourceIp ? { sourceIp: input.sourceIp } : {}),
  });
  const out = touched ? answer(registration, steady) : await recordChange(input, registration, now, deps);
  // After the heartbeat's own write: usage never delays or decides what the instance is told.
  if (input.usage) out.usage = await storeUsage(input.usage, input, registration, cached, now, deps);
  return out;
}

async function storeUsage(
  hours: UsageHour[],
  input: HeartbeatInput,
  registration: ConsumerRegistration,
  state: SecretState,
  now: Date,
  deps: HeartbeatDeps,
): Promise<{ recorded: number; ignored: number }> {
  if (!deps.usage) return { recorded: 0, ignored: hours.length };
  const { records, ignored } = usageRecordsOf(hours, {
    secretId: input.secretId,
    consumerId: registration.consumerId,
    sourceIp: input.sourceIp,
    versions: state.versions,
    now,
  });
  for (const record of records) await deps.usage.addUsage(record);
  return { recorded: records.length, ignored };
}

async function registrationFor(
  principal: string,
  secretId: string,
  deps: HeartbeatDeps,
  opts?: { recheck: boolean },
): Promise<ConsumerRegistration | undefined> {
  return (await deps.consumers.listByPrincipal(principal, opts))
    .filter((r) => r.secretId === secretId)
    .sort((a, b) => a.consumerId.localeCompare(b.consumerId))[0];
}

async function recordChange(
  input: HeartbeatInput,
  registration: ConsumerRegistration,
  now: Date,
  deps: HeartbeatDeps,
): Promise<HeartbeatOutput> {
  const state = await deps.store.getSecretState(input.secretId, { fresh: true });
  const judged = judge(input.fingerprint, state, now);
  const { consumerId } = registration;
  const before = await deps.consumers.getInstance(input.secretId, consumerId, input.instanceId);
  let anchor = { auditSeq: before?.auditSeq, auditHash: before?.auditHash };
  // The audit entry and the alert go out BEFORE the instance row changes: if either fails, the row
  // still holds the old fingerprint, so the consumer's retry sees the change again and reports it
  // again (at least once). The other order loses it for good: the retry would see nothing new.
  if (before?.fingerprint !== input.fingerprint) {
    const entry = await deps.audit.append({
      secretId: input.secretId,
      stream: instanceAuditStream(input.secretId, consumerId, input.instanceId),
      actor: input.callerArn,
      action: "instance-fingerprint-changed",
      details: {
        consumerId,
        instanceId: input.instanceId,
        from: before?.fingerprint ?? null,
        to: input.fingerprint,
        status: judged.status,
      },
    });
    anchor = { auditSeq: entry.seq, auditHash: entry.hash };
    if (judged.status === "unknown") {
      await deps.alerts.send({
        kind: "unknown-fingerprint",
        secretId: input.secretId,
        subject: `keyshift: ${consumerId} reports an unknown fingerprint for ${input.secretId}`,
        details: { consumerId, instanceId: input.instanceId, fingerprint: input.fingerprint },
      });
    }
  }
  await deps.consumers.putInstance({
    secretId: input.secretId,
    consumerId,
    instanceId: input.instanceId,
    fingerprint: input.fingerprint,
    firstSeenAt: before?.firstSeenAt ?? now.toISOString(),
    lastSeenAt: now.toISOString(),
    expectedBy: expectedBy(now, judged.next),
    ...(input.sourceIp ? { sourceIp: input.sourceIp } : {}),
    ...anchor,
  });
  return answer(registration, judged);
}

interface Judged {
  status: HeartbeatStatus;
  next: number;
  currentFingerprint: string | null;
}

function judge(fp: string, state: SecretState, now: Date): Judged {
  const status = classify(fp, state.versions);
  return {
    status,
    next: nextHeartbeatSeconds({ status, settings: state.settings, lock: state.lock, now }),
    currentFingerprint: state.versions?.current?.fingerprint ?? null,
  };
}

function answer(registration: ConsumerRegistration, judged: Judged): HeartbeatOutput {
  return {
    status: judged.status,
    consumerId: registration.consumerId,
    refreshNow: judged.status !== "current",
    currentFingerprint: judged.currentFingerprint,
    nextHeartbeatSeconds: judged.next,
  };
}

/** Not registered for this secret: 403, and an audit entry when the limiter says one is due. */
async function reject(input: HeartbeatInput, key: string | undefined, deps: HeartbeatDeps): Promise<never> {
  const principal = key ?? input.callerArn;
  const now = deps.clock.now();
  const due = deps.rejections?.check(principal, now) ?? { record: true, suppressed: 0 };
  if (due.record) {
    await deps.audit.append({
      secretId: "_system",
      stream: HEARTBEAT_REJECTIONS_STREAM,
      actor: input.callerArn,
      action: "heartbeat-rejected",
      details: {
        reason: "principal not registered for this secret",
        secretId: input.secretId,
        instanceId: input.instanceId,
        rejectedUnrecordedSinceLast: due.suppressed,
      },
    });
    deps.rejections?.recorded(principal, now);
  }
  throw new PrincipalNotAllowedError(
    `principal ${principal} is not registered as a consumer of ${input.secretId}`,
  );
}

function classify(fp: string, versions: VersionFingerprints | undefined): HeartbeatStatus {
  if (fp === versions?.current?.fingerprint) return "current";
  if (fp === versions?.previous?.fingerprint || fp === versions?.next?.fingerprint) return "stale";
  return "unknown";
}

function principalKeyOrUndefined(arn: string): string | undefined {
  try {
    return principalKey(arn);
  } catch {
    return undefined;
  }
}
