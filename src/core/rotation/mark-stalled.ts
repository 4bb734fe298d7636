import type { Deps, RotationRef } from "../deps";
import { writerOf } from "../deps";
import { RotationInProgressError } from "../errors";
import type { LaggingConsumer } from "../revocation/readiness";
import { drivingExecution, releaseIfFinished } from "./lock";

export interface MarkStalledInput extends RotationRef {
  lagging: LaggingConsumer[];
  laggingCount: number;
  deadlineAt?: string;
  /** Set when the workflow parks the rotation after an unexpected error rather than the deadline. */
  error?: string;
}

export interface MarkStalledOutput {
  /** False when there was nothing to park (the rotation completed, or another one holds the lock). */
  stalled: boolean;
  laggingCount: number;
}

/**
 * Stall: the deadline passed with consumers still lagging, or a step after promotion failed in a
 * way its retries could not fix. Alert, record `stalled`, keep the lock (a new rotation would need
 * a third key) and revoke nothing. The operator resumes, force-revokes or rolls back.
 * 1. A lock this execution does not drive (another rotation's, or taken by a resume) is left alone.
 *    A lock still held by a rotation that already finished is released: every way an execution
 *    ends leaves the lock free or stalled (I4).
 * 2. Audit and alert, naming the lagging consumers or the error (first: at least once).
 * 3. Mark the lock stalled (it then never expires) and the rotation `stalled`. `rotationId` may be
 *    the execution's own name (a BeginRotation that failed, perhaps mid-resume): the lock it drives
 *    is found by execution.
 */
export async function markStalled(
  input: MarkStalledInput,
  deps: Pick<Deps, "store" | "lock" | "audit" | "alerts" | "clock">,
): Promise<MarkStalledOutput> {
  const { secretId } = input;
  const execution = input.execution ?? input.rotationId;
  const held = await deps.lock.get(secretId);
  if (!held || drivingExecution(held) !== execution) {
    return { stalled: false, laggingCount: input.laggingCount };
  }
  const rotationId = held.rotationId;
  const rotation = await deps.store.getRotation(secretId, rotationId);
  if (await releaseIfFinished(deps, held, rotation, `rotation:${rotationId}`)) {
    return { stalled: false, laggingCount: input.laggingCount };
  }
  // Audit and alert BEFORE the lock says stalled (break 13): once it is stalled a resume may take
  // it, and this step's retry then finds a lock it does not drive and returns — a crash between
  // the lock and the audit would lose the stall's audit entry and alert for good. At least once.
  const laggingIds = input.lagging.map((l) => `${l.consumerId} (${l.reason})`);
  const why = input.error
    ? `step failed with ${input.error}`
    : `${input.laggingCount} consumer(s) lagging at the deadline`;
  await deps.audit.append({
    secretId,
    actor: `rotation:${rotationId}`,
    action: "rotation-stalled",
    details: {
      rotationId,
      laggingCount: input.laggingCount,
      lagging: laggingIds,
      deadlineAt: input.deadlineAt ?? null,
      error: input.error ?? null,
    },
  });
  await deps.alerts.send({
    kind: "rotation-stalled",
    secretId,
    subject: `keyshift: rotation of ${secretId} stalled: ${why}`,
    details: {
      rotationId,
      reason: why,
      lagging: laggingIds,
      laggingCount: input.laggingCount,
      action: `previous key kept; run \`keyshift resume ${secretId}\`, \`keyshift force-revoke ${secretId}\` or \`keyshift rollback ${secretId}\``,
    },
  });
  // Fenced: if a resume took the lock between the read and this write, it is left running.
  await deps.lock.markStalled(secretId, rotationId, { execution });
  if (rotation) {
    await deps.store
      .putRotation(
        {
          ...rotation,
          // The lock says "stalled"; the phase keeps saying how far a rotation that had not promoted got
          // (`promoting` must survive, or a resume would create a key instead of rolling forward).
          phase: rotation.previous ? "stalled" : rotation.phase,
          updatedAt: deps.clock.now().toISOString(),
        },
        writerOf(input),
      )
      // Fenced out: a takeover claimed the record and died before the lock (FencedOut). The stalled
      // lock is what an operator and I4 go by; the resume claims the record back and rewrites it.
      .catch((err: unknown) => {
        if (!(err instanceof RotationInProgressError)) throw err;
      });
  }
  return { stalled: true, laggingCount: input.laggingCount };
}
