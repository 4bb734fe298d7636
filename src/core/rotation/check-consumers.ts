import { type Deps, type RotationRef, requireSettings, writerOf } from "../deps";
import { emergencyDeadlineAt, emergencyInForce, settingsFor } from "../emergency/rules";
import { RotationStateError } from "../errors";
import { readinessOf } from "../revocation/gate";
import { type LaggingConsumer, nextWaitSeconds } from "../revocation/readiness";
import { holdLock } from "./lock";

export interface CheckConsumersInput extends RotationRef {
  /** How many checks this wait has made so far (drives the growing interval). */
  iteration: number;
}

export interface CheckConsumersOutput {
  ready: boolean;
  lagging: LaggingConsumer[];
  laggingCount: number;
  overlapRemainingSeconds: number;
  waitSeconds: number;
  deadlinePassed: boolean;
  deadlineAt: string;
  iteration: number;
  currentFingerprint: string;
  /**
   * An emergency rotation's deadline passed with consumers lagging: `ready` so the workflow goes on
   * to RevokePrevious, which revokes under a recorded break-glass (the lagging list says who fails).
   */
  emergencyBreak?: boolean;
}

/**
 * CheckConsumers (wait-for-consumers): may the previous key be revoked yet?
 *
 * Input: secret id, rotation id, iteration. Output: `{ready, lagging[], waitSeconds, deadlinePassed}`.
 * 0. The lock must be driven by this execution; its lease is renewed.
 * 1. Fix the deadline on the first check (now + `deadlineSeconds`; an emergency rotation's short
 *    deadline from its request and no overlap, see `settingsFor` — only while the previous key is
 *    one the emergency names), keep it after. The record is read at every check, so an escalation
 *    to an emergency is picked up by the next one.
 * 2. Evaluate readiness against the recorded current fingerprint (see `evaluateReadiness`).
 * 3. Compute the next, growing wait; say whether the deadline has passed — for an emergency in
 *    force a passed deadline means `ready` with `emergencyBreak` (RevokePrevious breaks the gate).
 * Waiting itself happens in the state machine (Wait state), never here.
 */
export async function checkConsumers(
  input: CheckConsumersInput,
  deps: Pick<Deps, "store" | "lock" | "consumers" | "clock">,
): Promise<CheckConsumersOutput> {
  const { secretId, rotationId } = input;
  const enrolled = await requireSettings(deps.store, secretId);
  // Renews the lease at every check: a long wait never looks like a dead execution.
  await holdLock(deps, input, enrolled);
  const now = deps.clock.now();
  const rotation = await deps.store.getRotation(secretId, rotationId);
  const settings = settingsFor(enrolled, rotation);
  const versions = await deps.store.getVersions(secretId);
  // Before promotion the recorded current is the old key: gating on it would approve a revocation of
  // the key everyone still uses.
  if (!rotation?.previous || !versions?.current || !versions.promotedAt) {
    throw new RotationStateError(`rotation ${rotationId} of ${secretId} has not promoted a current version`);
  }
  // Break 6: only an emergency still about the previous key counts from its request; after a
  // rollback the abandoned key gets the ordinary deadline, counted from now.
  const emergency = emergencyInForce(rotation) ? rotation.emergency : undefined;
  let deadlineAt = rotation.deadlineAt;
  if (!deadlineAt) {
    deadlineAt = emergency
      ? emergencyDeadlineAt(emergency, enrolled)
      : new Date(now.getTime() + settings.deadlineSeconds * 1000).toISOString();
    // Re-read just before the write: an escalation (`rotate --compromised`) may have landed since.
    const latest = (await deps.store.getRotation(secretId, rotationId)) ?? rotation;
    await deps.store.putRotation({ ...latest, deadlineAt, updatedAt: now.toISOString() }, writerOf(input));
  }
  const readiness = await readinessOf(deps, {
    secretId,
    currentFingerprint: versions.current.fingerprint,
    promotedAt: versions.promotedAt,
    settings,
    now,
  });
  const secondsToDeadline = (Date.parse(deadlineAt) - now.getTime()) / 1000;
  const emergencyBreak = !readiness.ready && secondsToDeadline <= 0 && Boolean(emergency);
  return {
    ...readiness,
    ...(emergencyBreak ? { ready: true, emergencyBreak } : {}),
    waitSeconds: nextWaitSeconds(
      settings,
      input.iteration,
      secondsToDeadline,
      readiness.overlapRemainingSeconds,
    ),
    deadlinePassed: !readiness.ready && !emergencyBreak && secondsToDeadline <= 0,
    deadlineAt,
    iteration: input.iteration + 1,
    currentFingerprint: versions.current.fingerprint,
  };
}
