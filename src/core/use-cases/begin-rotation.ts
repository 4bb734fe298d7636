import { InvalidInputError } from "../errors";
import {
  drivingExecution,
  leaseSecondsFor,
  releaseIfFinished,
  requireResumable,
  stallLostExecution,
  takeLock,
} from "../lock";
import { DEFAULT_EMERGENCY_DEADLINE_SECONDS, FINAL_PHASES, type RotationRecord } from "../model";
import { type Deps, requireSettings } from "./deps";

export interface BeginRotationInput {
  secretId: string;
  trigger: "schedule" | "manual";
  mode: "rotate" | "resume";
  /** The execution's name: a new rotation's id, and the lock's fencing token. */
  executionName: string;
  actor: string;
  /** Suspected compromise: an emergency rotation (no overlap, short deadline, then revoke anyway). */
  compromised?: boolean | undefined;
  reason?: string | undefined;
}

/** Where the workflow goes next: make a key, wait for consumers, or revoke. */
export type Route = "create" | "wait" | "revoke";

export interface BeginRotationOutput {
  secretId: string;
  rotationId: string;
  trigger: "schedule" | "manual";
  mode: "rotate" | "resume";
  route: Route;
}

/**
 * Begin (or resume) a rotation.
 *
 * Input: secret id, trigger, mode, execution name. Output: the rotation id and the route.
 * 1. Load the secret's settings (fails with `SecretNotEnrolledError`).
 * 2. `rotate`: take the lock for a new rotation id (fails fast with `RotationInProgressError`,
 *    touching nothing of the holder; a holder whose execution is gone is stalled, never taken
 *    over) and record the rotation as `started` — with its emergency (reason, actor) when the
 *    input says `compromised`, audited and alerted.
 * 3. `resume`: adopt the stalled rotation that holds the lock with one conditional write (of two
 *    racing resumes one wins), fencing out any execution that drove it before; refuse while a
 *    rollback is unfinished; route to the step it had reached with a fresh deadline.
 */
export async function beginRotation(
  input: BeginRotationInput,
  deps: Pick<Deps, "store" | "lock" | "audit" | "alerts" | "clock">,
): Promise<BeginRotationOutput> {
  const settings = await requireSettings(deps.store, input.secretId);
  if (input.mode === "resume") return resume(input, settings, deps);

  const rotationId = input.executionName;
  await takeLock(deps, { secretId: input.secretId, rotationId }, settings);
  const existing = await deps.store.getRotation(input.secretId, rotationId);
  if (!existing) {
    const now = deps.clock.now().toISOString();
    const emergency =
      input.compromised && input.reason
        ? { reason: input.reason, actor: input.actor, requestedAt: now }
        : undefined;
    await deps.store.putRotation({
      secretId: input.secretId,
      rotationId,
      trigger: input.trigger,
      phase: "started",
      startedAt: now,
      updatedAt: now,
      ...(emergency ? { emergency } : {}),
    });
    await deps.audit.append({
      secretId: input.secretId,
      actor: input.actor,
      action: emergency ? "emergency-rotation-started" : "rotation-started",
      details: { rotationId, trigger: input.trigger, ...(emergency ? { reason: emergency.reason } : {}) },
    });
    if (emergency) {
      const deadline = settings.emergencyDeadlineSeconds ?? DEFAULT_EMERGENCY_DEADLINE_SECONDS;
      await deps.alerts.send({
        kind: "emergency-rotation",
        secretId: input.secretId,
        subject: `keyshift: EMERGENCY rotation of ${input.secretId} (suspected compromise)`,
        details: {
          rotationId,
          reason: emergency.reason,
          actor: input.actor,
          action: `consumers that have not switched ${deadline}s after promotion will fail: \`keyshift status ${input.secretId}\``,
        },
      });
    }
  }
  return {
    secretId: input.secretId,
    rotationId,
    trigger: input.trigger,
    mode: "rotate",
    route: routeFor(existing),
  };
}

async function resume(
  input: BeginRotationInput,
  settings: Parameters<typeof leaseSecondsFor>[0],
  deps: Pick<Deps, "store" | "lock" | "audit" | "alerts" | "clock">,
): Promise<BeginRotationOutput> {
  const { secretId, executionName } = input;
  const now = deps.clock.now();
  const held = requireResumable(await deps.lock.get(secretId), secretId, executionName, now);
  const rotation = await deps.store.getRotation(secretId, held.rotationId);
  if (await releaseIfFinished(deps, held, rotation, input.actor)) {
    throw new InvalidInputError(
      `nothing to resume for ${secretId}: rotation ${held.rotationId} had already finished; start a new rotation`,
    );
  }
  if (rotation?.rollback) {
    throw new InvalidInputError(
      `rotation ${held.rotationId} of ${secretId} has an unfinished rollback: run \`keyshift rollback ${secretId}\` again to finish it, then resume`,
    );
  }
  if (!held.stalled && drivingExecution(held) !== executionName)
    await stallLostExecution(deps, held, now, input.actor);
  // Conditional: stalled and no operator command holding it, or this same execution re-entering.
  await deps.lock.resume(secretId, held.rotationId, executionName, now, leaseSecondsFor(settings));
  const route = routeFor(rotation);
  if (rotation && !FINAL_PHASES.includes(rotation.phase)) {
    // A resumed wait gets a whole new deadline, counted from now.
    await deps.store.putRotation({
      ...rotation,
      phase: route === "wait" ? "promoted" : rotation.phase,
      deadlineAt: undefined,
      updatedAt: now.toISOString(),
    });
  }
  await deps.audit.append({
    secretId,
    actor: input.actor,
    action: "rotation-resumed",
    details: { rotationId: held.rotationId, route, executionName },
  });
  return { secretId, rotationId: held.rotationId, trigger: input.trigger, mode: "resume", route };
}

function routeFor(rotation: RotationRecord | undefined): Route {
  switch (rotation?.phase) {
    case undefined:
    case "started":
    case "next-created":
    case "promoting":
      return "create";
    case "revoking":
      return "revoke";
    case "stalled":
      // Stalled before promotion (an abort that could not finish, a lost execution): create again.
      return rotation.previous ? "wait" : "create";
    default:
      return "wait";
  }
}
