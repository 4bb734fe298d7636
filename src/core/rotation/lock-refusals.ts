import type { LockRecord } from "../model";

/** A stalled lock never expires by lease: only an operator action moves it. */
export const NEVER = "9999-12-31T23:59:59.999Z";

/**
 * What a refused lock or rotation-record write says, in every implementation of the ports (the
 * DynamoDB adapter and the in-memory one the simulation runs on): an operator reads these in the
 * CLI and in a failed execution's cause, so they name the holder and what to run next. Part of the
 * ports' contract (test/contract/ports/), so it lives with the lock in the core.
 */
export const refusals = {
  taken: (secretId: string, rotationId: string, held: LockRecord | undefined) =>
    `secret ${secretId} is being rotated by ${held?.rotationId ?? "another rotation"}` +
    (held?.stalled
      ? " (stalled: resume, force-revoke or roll it back)"
      : ` (lease until ${held?.leaseExpiresAt})`) +
    `; rotation ${rotationId} changed nothing`,
  renew: (secretId: string, rotationId: string, execution: string) =>
    `execution ${execution} of rotation ${rotationId} no longer drives the lock of ${secretId}`,
  stall: (secretId: string, rotationId: string, expired: boolean) =>
    `rotation ${rotationId} does not hold the lock of ${secretId}${expired ? " with an expired lease" : ""}`,
  resume: (secretId: string, rotationId: string, execution: string) =>
    `rotation ${rotationId} of ${secretId} cannot be resumed by ${execution}`,
  hold: (secretId: string, rotationId: string, operator: string) =>
    `operator command ${operator} cannot hold rotation ${rotationId} of ${secretId}`,
  intent: (secretId: string, rotationId: string, operator: string) =>
    `operator command ${operator} no longer holds rotation ${rotationId} of ${secretId}`,
  writer: (secretId: string, rotationId: string, writer: string) =>
    `rotation ${rotationId} of ${secretId} refused the write of ${writer}: taken over by another execution or command`,
  claim: (secretId: string, rotationId: string, operation: string) =>
    `rotation ${rotationId} of ${secretId} refused the claim of ${operation}: claimed by another command meanwhile`,
  fenced: (secretId: string, rotationId: string, fence: string) =>
    `rotation ${rotationId} of ${secretId} refused the write of ${fence}: claimed by another command`,
  versions: (secretId: string, expectedCurrent: string) =>
    `versions of ${secretId} refused the write: current is no longer ${expectedCurrent}`,
};

/** The lock as it stands, for a refusal: who holds it, how, and what an unfinished command needs. */
export function describeLock(lock: LockRecord | undefined): string {
  if (!lock) return "the lock is free";
  const state = lock.stalled ? "stalled" : `running until ${lock.leaseExpiresAt}`;
  const op = lock.operator ? `, operator command ${lock.operator} until ${lock.operatorUntil}` : "";
  const intent = lock.intent
    ? `, an unfinished ${lock.intent} (${lock.intentOperation}): run \`keyshift ${lock.intent} ${lock.secretId}\` again to finish it`
    : "";
  return `held by rotation ${lock.rotationId} (execution ${lock.execution ?? lock.rotationId}), ${state}${op}${intent}`;
}
