import { InvalidInputError, OperatorActionRejectedError, RotationInProgressError } from "../errors";
import {
  FINAL_PHASES,
  type LockRecord,
  type OperatorIntent,
  type RotationRecord,
  type SecretSettings,
} from "../model";
import type { Alerts, AuditLog, Clock, RotationLock, RotationStore } from "../ports";

/**
 * The rules of the per-secret lock (invariant I4, one writer per secret):
 * - a rotation takes the lock conditionally; a second one fails fast and touches nothing;
 * - every step renews the lease and proves, in the same conditional write, that its execution
 *   still drives the rotation (a resumed rotation fences out the execution it replaced);
 * - nobody ever takes over a lock: a holder whose lease ran out (its execution is gone) is marked
 *   stalled, audited and alerted, and waits for an operator — it may have promoted, and a new
 *   rotation in its place would orphan its previous key;
 * - operator commands hold a stalled lock for a short while, so two commands (or a command and a
 *   resume) never interleave their writes.
 */

/** Most of an operator command's work is a few calls; a command that died frees its hold this soon. */
export const OPERATOR_HOLD_SECONDS = 120;

type LockDeps = { lock: RotationLock; store: RotationStore; audit: AuditLog; alerts: Alerts; clock: Clock };

/** A step's claim: the rotation it works for and the execution it runs in. */
export interface LockClaim {
  secretId: string;
  rotationId: string;
  /** Step Functions execution name; absent only for callers that predate fencing (then = rotation id). */
  execution?: string | undefined;
}

/**
 * Lease of a running rotation. Every step renews it, so it only has to outlive the longest gap
 * between two steps: one wait of the consumer loop, or a step's retries, plus a margin.
 */
export function leaseSecondsFor(settings: Pick<SecretSettings, "maxPollIntervalSeconds">): number {
  return settings.maxPollIntervalSeconds + 3600;
}

/** The execution that drives the lock now. */
export function drivingExecution(lock: LockRecord): string {
  return lock.execution ?? lock.rotationId;
}

/** The holder is presumed alive: not stalled and its lease not yet past. */
export function lockStillRunning(lock: LockRecord, now: Date): boolean {
  return !lock.stalled && Date.parse(lock.leaseExpiresAt) >= now.getTime();
}

/**
 * The step's execution must still drive its rotation's lock; renews the lease in the same write.
 * Throws `RotationInProgressError` (the ASL ends the execution as rejected) otherwise.
 */
export async function holdLock(
  deps: Pick<LockDeps, "lock" | "clock">,
  claim: LockClaim,
  settings: Pick<SecretSettings, "maxPollIntervalSeconds">,
): Promise<LockRecord> {
  return deps.lock.renew(
    claim.secretId,
    claim.rotationId,
    claim.execution ?? claim.rotationId,
    deps.clock.now(),
    leaseSecondsFor(settings),
  );
}

/**
 * Takes the lock for a new rotation. A lock left behind by a finished rotation (its release was
 * lost) is released first; a running holder whose lease ran out is stalled for an operator, never
 * taken over. Anything else fails fast with `RotationInProgressError`.
 */
export async function takeLock(
  deps: LockDeps,
  claim: { secretId: string; rotationId: string },
  settings: Pick<SecretSettings, "maxPollIntervalSeconds">,
): Promise<LockRecord> {
  const { secretId, rotationId } = claim;
  const lease = leaseSecondsFor(settings);
  try {
    return await deps.lock.acquire(secretId, rotationId, deps.clock.now(), lease);
  } catch (err) {
    if (!(err instanceof RotationInProgressError)) throw err;
    const now = deps.clock.now();
    const held = await deps.lock.get(secretId);
    if (!held) return deps.lock.acquire(secretId, rotationId, now, lease);
    const holder = await deps.store.getRotation(secretId, held.rotationId);
    if (await releaseIfFinished(deps, held, holder, `rotation:${rotationId}`)) {
      return deps.lock.acquire(secretId, rotationId, now, lease);
    }
    if (!lockStillRunning(held, now)) {
      await stallLostExecution(deps, held, now, `rotation:${rotationId}`);
      throw new RotationInProgressError(
        `secret ${secretId} is held by rotation ${held.rotationId}, whose execution stopped renewing its lease ` +
          `(${held.leaseExpiresAt}); it is now stalled for an operator: \`keyshift status ${secretId}\`, then ` +
          `resume, force-revoke or roll it back; rotation ${rotationId} changed nothing`,
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * A lock whose rotation (`holder`, the record of `held.rotationId` the caller read) already reached
 * a final phase (completed, aborted, force-revoked) is a leftover of a release that was lost: free
 * it. An operator command's marker (trigger `operator`, final from the start) is left alone while
 * its short lease runs: the command may still be working. Returns whether it did.
 */
export async function releaseIfFinished(
  deps: Pick<LockDeps, "lock" | "audit" | "clock">,
  held: LockRecord,
  holder: RotationRecord | undefined,
  actor: string,
): Promise<boolean> {
  if (!holder || !FINAL_PHASES.includes(holder.phase)) return false;
  if (holder.trigger === "operator" && lockStillRunning(held, deps.clock.now())) return false;
  await deps.audit.append({
    secretId: held.secretId,
    actor,
    action: "lock-released-after-finish",
    details: { rotationId: held.rotationId, phase: holder.phase },
  });
  await deps.lock.release(held.secretId, held.rotationId);
  return true;
}

/**
 * The holder's execution is gone (lease past, not stalled): mark the lock stalled — conditionally,
 * so a holder that renewed meanwhile is left alone — audit and alert.
 * Returns false when someone else moved the lock first.
 */
export async function stallLostExecution(
  deps: LockDeps,
  held: LockRecord,
  now: Date,
  foundBy: string,
): Promise<boolean> {
  // The lock is the authority for "stalled"; the rotation record is left as its own execution wrote
  // it (one writer per rotation record), so resume still routes by the phase it had reached.
  const rotation = await deps.store.getRotation(held.secretId, held.rotationId);
  const details = {
    rotationId: held.rotationId,
    execution: drivingExecution(held),
    leaseExpiresAt: held.leaseExpiresAt,
    phase: rotation?.phase ?? "unknown",
  };
  // Audited BEFORE the lock changes (at-least-once): a finder that dies between the two leaves a
  // lock still running-but-expired, which the next finder audits and stalls again; the other order
  // would leave a stall nobody audited. A stall that loses its conditional write is corrected below.
  await deps.audit.append({
    secretId: held.secretId,
    actor: foundBy,
    action: "rotation-execution-lost",
    details,
  });
  try {
    await deps.lock.markStalled(held.secretId, held.rotationId, { expiredAt: now });
  } catch (err) {
    if (!(err instanceof RotationInProgressError)) throw err;
    const after = await deps.lock.get(held.secretId);
    // Stalled by another finder meanwhile: the entry above is true. Renewed, or gone: it was not.
    if (!(after?.stalled && after.rotationId === held.rotationId)) {
      await deps.audit.append({
        secretId: held.secretId,
        actor: foundBy,
        action: "rotation-execution-alive",
        details: { rotationId: held.rotationId, lock: after ? drivingExecution(after) : "released" },
      });
    }
    return false;
  }
  await deps.alerts.send({
    kind: "rotation-execution-lost",
    secretId: held.secretId,
    subject: `keyshift: rotation of ${held.secretId} lost its execution; stalled`,
    details: {
      ...details,
      action: `\`keyshift status ${held.secretId}\`, then \`keyshift resume ${held.secretId}\` (or force-revoke / rollback)`,
    },
  });
  return true;
}

/**
 * An operator command's hold on a stalled rotation. A running rotation is refused; one whose
 * execution is gone is stalled first; another command's unfinished intent is refused (only that
 * command's re-run may finish it). Release with `deps.lock.releaseOperator` when done.
 * The hold is a lease (no renewal): it keeps two live commands apart, but cannot fence a command
 * paused past it — the fencing token on the rotation record and the intent on the lock do that
 * (see `operator/actions.ts`).
 */
export async function holdForOperator(
  deps: LockDeps,
  input: { secretId: string; operation: string; actor: string; command: OperatorIntent },
): Promise<LockRecord> {
  const now = deps.clock.now();
  const held = await deps.lock.get(input.secretId);
  if (!held) {
    throw new OperatorActionRejectedError(
      `no rotation of ${input.secretId} holds the lock: nothing to ${input.command}`,
    );
  }
  const holder = await deps.store.getRotation(input.secretId, held.rotationId);
  if (await releaseIfFinished(deps, held, holder, input.actor)) {
    throw new OperatorActionRejectedError(
      `rotation ${held.rotationId} of ${input.secretId} had already finished (its lock is now released): nothing to ${input.command}`,
    );
  }
  if (!held.stalled) {
    if (lockStillRunning(held, now)) {
      throw new OperatorActionRejectedError(
        `rotation ${held.rotationId} of ${input.secretId} is still running (execution ${drivingExecution(held)}, ` +
          `lease until ${held.leaseExpiresAt}); ${input.command} only a stalled rotation`,
      );
    }
    await stallLostExecution(deps, held, now, input.actor);
  }
  try {
    return await deps.lock.holdForOperator(
      input.secretId,
      held.rotationId,
      input.operation,
      now,
      OPERATOR_HOLD_SECONDS,
      input.command,
    );
  } catch (err) {
    if (!(err instanceof RotationInProgressError)) throw err;
    const after = await deps.lock.get(input.secretId);
    const unfinished =
      after?.intent && after.intent !== input.command
        ? `; it has an unfinished ${after.intent} (operation ${after.intentOperation}): run \`keyshift ${after.intent} ${input.secretId}\` again to finish it first`
        : "";
    throw new OperatorActionRejectedError(
      `cannot ${input.command} ${input.secretId} now: ${err.message}${unfinished}. If another operator command died, ` +
        `its hold ends within ${OPERATOR_HOLD_SECONDS}s; re-run then`,
      { cause: err },
    );
  }
}

/** Resume needs a stalled (or dead) rotation; input errors name what to do instead. */
export function requireResumable(
  held: LockRecord | undefined,
  secretId: string,
  execution: string,
  now: Date,
): LockRecord {
  if (!held) {
    throw new InvalidInputError(
      `nothing to resume for ${secretId}: no rotation holds its lock; start a new rotation instead`,
    );
  }
  if (lockStillRunning(held, now) && drivingExecution(held) !== execution) {
    throw new RotationInProgressError(
      `rotation ${held.rotationId} of ${secretId} is still running (execution ${drivingExecution(held)}, lease until ` +
        `${held.leaseExpiresAt}); resume only a stalled rotation`,
    );
  }
  return held;
}

/** What the lock means for an operator at a glance, and what to do about it. */
export function lockStatus(
  lock: LockRecord | undefined,
  rotation: { phase: string; rollback?: unknown; forceRevoke?: unknown } | undefined,
  now: Date,
): { state: "free" | "running" | "execution-lost" | "stalled"; summary: string; next?: string } {
  if (!lock) return { state: "free", summary: "free" };
  const who = `rotation ${lock.rotationId} (execution ${drivingExecution(lock)}, phase ${rotation?.phase ?? "unknown"})`;
  const op = lock.operator ? `; operator command ${lock.operator} holds it until ${lock.operatorUntil}` : "";
  const intent: OperatorIntent | undefined =
    lock.intent ?? (rotation?.rollback ? "rollback" : rotation?.forceRevoke ? "force-revoke" : undefined);
  const unfinished = intent ? `; a ${intent} is unfinished: run \`keyshift ${intent}\` again` : "";
  if (lock.stalled) {
    return {
      state: "stalled",
      summary: `${who} STALLED${op}${unfinished}`,
      next: intent ? `keyshift ${intent}` : "keyshift resume | force-revoke | rollback",
    };
  }
  if (lockStillRunning(lock, now))
    return { state: "running", summary: `${who} running, lease until ${lock.leaseExpiresAt}` };
  return {
    state: "execution-lost",
    summary: `${who} — its lease ended at ${lock.leaseExpiresAt}: the execution is gone`,
    next: "keyshift resume (the rotation is stalled first)",
  };
}
