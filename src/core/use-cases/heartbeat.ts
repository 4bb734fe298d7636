import { PrincipalNotAllowedError } from "../errors";
import type { VersionFingerprints } from "../model";
import { principalKey } from "../principal";
import type { Deps } from "./deps";

export interface HeartbeatInput {
  /** The caller's IAM principal from the API Gateway request context, never from the body. */
  callerArn: string;
  secretId: string;
  fingerprint: string;
  instanceId: string;
}

export type HeartbeatStatus = "current" | "stale" | "unknown";

export interface HeartbeatOutput {
  status: HeartbeatStatus;
  consumerId: string;
  /** `stale`: refresh the cached secret now, don't wait for the cache TTL. */
  refreshNow: boolean;
  currentFingerprint: string | null;
  nextHeartbeatSeconds: number;
}

/**
 * A consumer instance reports the fingerprint it holds.
 *
 * Input: caller principal, secret id, fingerprint, instance id. Output: current / stale / unknown.
 * 1. Resolve the consumer from the caller's principal; not registered for this secret → audit,
 *    alert, `PrincipalNotAllowedError` (403), and nothing written to the registry.
 * 2. Classify the fingerprint against the recorded versions (no secret value is read).
 * 3. A change of fingerprint is audited; an `unknown` one (neither current, previous nor pending)
 *    is also alerted as possible misuse. Both before step 4, so a failure is reported again on retry.
 * 4. Record the instance (fingerprint, last seen).
 */
export async function heartbeat(
  input: HeartbeatInput,
  deps: Pick<Deps, "consumers" | "store" | "audit" | "alerts" | "clock">,
): Promise<HeartbeatOutput> {
  // A principal that is not an IAM role or user (federated, root, service) can never be registered.
  const key = principalKeyOrUndefined(input.callerArn);
  const [registration] = key ? await deps.consumers.findByPrincipal(key, input.secretId) : [];
  if (!registration) {
    await deps.audit.append({
      secretId: input.secretId,
      actor: input.callerArn,
      action: "heartbeat-rejected",
      details: { reason: "principal not registered for this secret", instanceId: input.instanceId },
    });
    await deps.alerts.send({
      kind: "rejected-principal",
      secretId: input.secretId,
      subject: `keyshift: heartbeat for ${input.secretId} from an unregistered principal`,
      details: { principal: input.callerArn, instanceId: input.instanceId },
    });
    throw new PrincipalNotAllowedError(
      `principal ${key ?? input.callerArn} is not registered as a consumer of ${input.secretId}`,
    );
  }

  const versions = await deps.store.getVersions(input.secretId);
  const status = classify(input.fingerprint, versions);
  const now = deps.clock.now().toISOString();
  const before = await deps.consumers.getInstance(input.secretId, registration.consumerId, input.instanceId);
  // The audit entry and the alert go out BEFORE the instance row changes: if either fails, the row
  // still holds the old fingerprint, so the consumer's retry sees the change again and reports it
  // again (at least once). The other order loses it for good: the retry would see nothing new.
  if (before?.fingerprint !== input.fingerprint) {
    await deps.audit.append({
      secretId: input.secretId,
      actor: input.callerArn,
      action: "instance-fingerprint-changed",
      details: {
        consumerId: registration.consumerId,
        instanceId: input.instanceId,
        from: before?.fingerprint ?? null,
        to: input.fingerprint,
        status,
      },
    });
    if (status === "unknown") {
      await deps.alerts.send({
        kind: "unknown-fingerprint",
        secretId: input.secretId,
        subject: `keyshift: ${registration.consumerId} reports an unknown fingerprint for ${input.secretId}`,
        details: {
          consumerId: registration.consumerId,
          instanceId: input.instanceId,
          fingerprint: input.fingerprint,
        },
      });
    }
  }
  await deps.consumers.putInstance({
    secretId: input.secretId,
    consumerId: registration.consumerId,
    instanceId: input.instanceId,
    fingerprint: input.fingerprint,
    firstSeenAt: before?.firstSeenAt ?? now,
    lastSeenAt: now,
  });
  return {
    status,
    consumerId: registration.consumerId,
    refreshNow: status !== "current",
    currentFingerprint: versions?.current?.fingerprint ?? null,
    nextHeartbeatSeconds: registration.heartbeatIntervalSeconds,
  };
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
