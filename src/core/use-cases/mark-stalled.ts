import type { LaggingConsumer } from "../readiness";
import type { Deps, RotationRef } from "./deps";

export interface MarkStalledInput extends RotationRef {
  lagging: LaggingConsumer[];
  laggingCount: number;
  deadlineAt: string;
}

/**
 * The deadline passed with consumers still lagging: alert, record `stalled`, keep the lock (a new
 * rotation would need a third key) and revoke nothing. The operator resumes, force-revokes or rolls back.
 */
export async function markStalled(
  input: MarkStalledInput,
  deps: Pick<Deps, "store" | "lock" | "audit" | "alerts" | "clock">,
): Promise<{ stalled: true; laggingCount: number }> {
  const { secretId, rotationId } = input;
  await deps.lock.markStalled(secretId, rotationId);
  const rotation = await deps.store.getRotation(secretId, rotationId);
  if (rotation) {
    await deps.store.putRotation({
      ...rotation,
      phase: "stalled",
      updatedAt: deps.clock.now().toISOString(),
    });
  }
  const laggingIds = input.lagging.map((l) => `${l.consumerId} (${l.reason})`);
  await deps.audit.append({
    secretId,
    actor: `rotation:${rotationId}`,
    action: "rotation-stalled",
    details: {
      rotationId,
      laggingCount: input.laggingCount,
      lagging: laggingIds,
      deadlineAt: input.deadlineAt,
    },
  });
  await deps.alerts.send({
    kind: "rotation-stalled",
    secretId,
    subject: `keyshift: rotation of ${secretId} stalled, ${input.laggingCount} consumer(s) lagging`,
    details: {
      rotationId,
      lagging: laggingIds,
      laggingCount: input.laggingCount,
      action: `previous key kept; run \`keyshift resume ${secretId}\`, \`keyshift force-revoke ${secretId}\` or \`keyshift rollback ${secretId}\``,
    },
  });
  return { stalled: true, laggingCount: input.laggingCount };
}
