import { RotationInProgressError } from "../errors";
import type { RotationRecord, SecretSettings } from "../model";
import { drivingExecution, leaseSecondsFor, lockStillRunning, stallLostExecution } from "../rotation/lock";
import { giveRecordBack } from "../rotation/rotation-claim";
import type { EscalationDeps, EscalationInput } from "./escalation";
import { refuse, rerun } from "./refusal";
import { emergencyCovers, emergencyInForce } from "./rules";

/**
 * Step 3 of `escalateToEmergency`: this execution takes the rotation over with the lock's fencing
 * (a running execution is stalled conditionally on still being the one that drives it, then
 * resumed by this one), so the execution it replaces stops at its next step and the wait — which
 * may be sleeping for many minutes — restarts at once with emergency settings. The record first:
 * from then on a step of the execution being replaced — even one running right now — can no
 * longer write it (I4), then the lock. Whatever fails after the claim, the record goes back to
 * whoever drives the lock.
 */
export async function takeOverForEmergency(
  deps: EscalationDeps,
  input: EscalationInput,
  settings: SecretSettings,
  rotation: RotationRecord,
  target: string,
  now: Date,
): Promise<void> {
  const { secretId } = input;
  const handBack = () =>
    giveRecordBack(deps, { secretId, rotationId: rotation.rotationId, from: input.executionName });
  try {
    await deps.store.claimRotation(secretId, rotation.rotationId, input.executionName, rotation.fence);
  } catch (err) {
    // The claim may have landed with its answer lost.
    await handBack();
    if (!(err instanceof RotationInProgressError)) throw err;
    throw refuse(
      `rotation ${rotation.rotationId} of ${secretId} was written by another execution or command while escalating ` +
        `(${err.message}); nothing was taken over: re-run ${rerun(secretId)}`,
    );
  }
  try {
    await takeLockOver(deps, input, settings, rotation, target, now);
  } catch (err) {
    await handBack();
    if (!(err instanceof RotationInProgressError)) throw err;
    throw refuse(
      `rotation ${rotation.rotationId} of ${secretId} was taken by another command while escalating (${err.message}); ` +
        `nothing was taken over: \`keyshift status ${secretId}\`, then re-run ${rerun(secretId)}`,
    );
  }
}

/** With the record claimed: stop whoever drives the lock now, and resume it under this execution. */
async function takeLockOver(
  deps: EscalationDeps,
  input: EscalationInput,
  settings: SecretSettings,
  rotation: RotationRecord,
  target: string,
  now: Date,
): Promise<void> {
  const { secretId } = input;
  // The lock as it is now (a resume may have adopted it since the first read): its driver is
  // the one stopped — conditionally, so a driver that changes again is left alone.
  const current = await deps.lock.get(secretId);
  if (!current || current.rotationId !== rotation.rotationId) {
    throw new RotationInProgressError(
      `the lock of ${secretId} is no longer rotation ${rotation.rotationId}'s`,
    );
  }
  // Another execution adopted it since the first read (a resume, a concurrent escalation): the
  // first read's rules apply to what drives it now — never take over one making its new key,
  // nor one already escalated for this key.
  if (
    !current.stalled &&
    lockStillRunning(current, now) &&
    drivingExecution(current) !== input.executionName
  ) {
    const fresh = await deps.store.getRotation(secretId, rotation.rotationId);
    if (!fresh?.previous || (emergencyInForce(fresh) && emergencyCovers(fresh, target))) {
      throw new RotationInProgressError(
        `execution ${drivingExecution(current)} adopted rotation ${rotation.rotationId} meanwhile (phase ${fresh?.phase ?? "unknown"})`,
      );
    }
  }
  if (!current.stalled) {
    if (!lockStillRunning(current, now)) await stallLostExecution(deps, current, now, input.actor);
    else await deps.lock.markStalled(secretId, current.rotationId, { execution: drivingExecution(current) });
  }
  await deps.lock.resume(secretId, current.rotationId, input.executionName, now, leaseSecondsFor(settings));
}
