import { InvalidInputError, RotationInProgressError } from "../errors";
import { lockStillRunning, type RotationRecord } from "../model";
import { type Deps, leaseSecondsFor, requireSettings } from "./deps";

export interface BeginRotationInput {
  secretId: string;
  trigger: "schedule" | "manual";
  mode: "rotate" | "resume";
  /** The execution's name: a new rotation's id. */
  executionName: string;
  actor: string;
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
 *    touching nothing of the holder) and record the rotation as `started`.
 * 3. `resume`: adopt the rotation that holds the lock (stalled, or its execution died) with a
 *    fresh lease and deadline, and route to the step it had reached.
 */
export async function beginRotation(
  input: BeginRotationInput,
  deps: Pick<Deps, "store" | "lock" | "audit" | "clock">,
): Promise<BeginRotationOutput> {
  const settings = await requireSettings(deps.store, input.secretId);
  const now = deps.clock.now();
  const lease = leaseSecondsFor(settings);

  if (input.mode === "resume") {
    const held = await deps.lock.get(input.secretId);
    if (!held) {
      throw new InvalidInputError(
        `nothing to resume for ${input.secretId}: no rotation holds its lock; start a new rotation instead`,
      );
    }
    if (lockStillRunning(held, now)) {
      throw new RotationInProgressError(
        `rotation ${held.rotationId} of ${input.secretId} is still running (lease until ${held.leaseExpiresAt}); resume only a stalled or dead rotation`,
      );
    }
    await deps.lock.resume(input.secretId, held.rotationId, now, lease);
    const rotation = await deps.store.getRotation(input.secretId, held.rotationId);
    const route = routeFor(rotation);
    if (rotation) {
      // A resumed wait gets a whole new deadline, counted from now.
      await deps.store.putRotation({
        ...rotation,
        phase: route === "create" ? rotation.phase : "promoted",
        deadlineAt: undefined,
        updatedAt: now.toISOString(),
      });
    }
    await deps.audit.append({
      secretId: input.secretId,
      actor: input.actor,
      action: "rotation-resumed",
      details: { rotationId: held.rotationId, route, executionName: input.executionName },
    });
    return {
      secretId: input.secretId,
      rotationId: held.rotationId,
      trigger: input.trigger,
      mode: "resume",
      route,
    };
  }

  const rotationId = input.executionName;
  await deps.lock.acquire(input.secretId, rotationId, now, lease);
  const existing = await deps.store.getRotation(input.secretId, rotationId);
  if (!existing) {
    await deps.store.putRotation({
      secretId: input.secretId,
      rotationId,
      trigger: input.trigger,
      phase: "started",
      startedAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
    await deps.audit.append({
      secretId: input.secretId,
      actor: input.actor,
      action: "rotation-started",
      details: { rotationId, trigger: input.trigger },
    });
  }
  return {
    secretId: input.secretId,
    rotationId,
    trigger: input.trigger,
    mode: "rotate",
    route: routeFor(existing),
  };
}

function routeFor(rotation: RotationRecord | undefined): Route {
  switch (rotation?.phase) {
    case undefined:
    case "started":
    case "next-created":
      return "create";
    case "revoking":
      return "revoke";
    default:
      return "wait";
  }
}
