import { type Deps, requireSettings } from "../deps";
import { breakGlassOnEarlierKeys, earlierKeysRefusal } from "../emergency/earlier-keys";
import {
  alertCompromisedCurrent,
  type Escalated,
  escalateToEmergency,
  routeOf,
} from "../emergency/escalation";
import { emergencyInForce } from "../emergency/rules";
import { InvalidInputError, RotationInProgressError } from "../errors";
import {
  DEFAULT_EMERGENCY_DEADLINE_SECONDS,
  type EmergencyRecord,
  FINAL_PHASES,
  type RotationRecord,
  type SecretSettings,
} from "../model";
import type { LockedRevocationDeps } from "../revocation/through-ledger";
import {
  drivingExecution,
  leaseSecondsFor,
  releaseIfFinished,
  requireResumable,
  stallLostExecution,
  takeLock,
} from "./lock";
import { claimForExecution, giveRecordBack, stallFencedOut } from "./rotation-claim";

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
  /**
   * `rotate --compromised` found a rotation holding the lock and escalated it to an emergency; this
   * execution now drives that rotation (`rotationId` is the escalated one's).
   */
  escalated?: Escalated;
}

type BeginDeps = LockedRevocationDeps & Pick<Deps, "alerts">;

/**
 * Begin (or resume) a rotation.
 *
 * Input: secret id, trigger, mode, execution name. Output: the rotation id and the route.
 * 1. Load the secret's settings (fails with `SecretNotEnrolledError`).
 * 2. `rotate`: take the lock for a new rotation id (fails fast with `RotationInProgressError`,
 *    touching nothing of the holder; a holder whose execution is gone is stalled, never taken
 *    over) and record the rotation as `started` — with its emergency (reason, actor, the
 *    compromised key: the recorded current one) when the input says `compromised`, audited and
 *    alerted. An emergency then breaks the glass on earlier keys of the secret still in the ledger
 *    (they would make the replacement a third key); if one survives it refuses with what to run
 *    (`EmergencyRefusedError`), the lock released and the rotation recorded `aborted`.
 * 3. `rotate --compromised` while another rotation holds the lock: escalate it (see
 *    `escalateToEmergency`); this execution takes it over.
 * 4. `resume`: adopt the stalled rotation that holds the lock with one conditional write (of two
 *    racing resumes one wins), fencing out any execution that drove it before; refuse while a
 *    rollback is unfinished; route to the step it had reached with a fresh deadline. When its
 *    current key is one its emergency named (rolled back onto the compromised key) alert and say
 *    what to run: the emergency cannot complete as such (break 6).
 */
export async function beginRotation(
  input: BeginRotationInput,
  deps: BeginDeps,
): Promise<BeginRotationOutput> {
  const settings = await requireSettings(deps.store, input.secretId);
  if (input.mode === "resume") return resume(input, settings, deps);

  const rotationId = input.executionName;
  const reason = input.compromised ? input.reason : undefined;
  try {
    await takeLock(deps, { secretId: input.secretId, rotationId }, settings);
  } catch (err) {
    if (!(reason && err instanceof RotationInProgressError)) throw err;
    const escalated = await escalateToEmergency({ ...input, reason }, settings, deps);
    if (!escalated) throw err;
    const { rotationId: escalatedId, route } = escalated;
    return {
      secretId: input.secretId,
      rotationId: escalatedId,
      trigger: input.trigger,
      mode: "rotate",
      route,
      escalated,
    };
  }
  let existing = await deps.store.getRotation(input.secretId, rotationId);
  if (!existing) existing = await recordStart(input, rotationId, reason, settings, deps);
  if (existing.emergency && existing.phase === "started")
    await freeEarlierKeys(existing, input.actor, settings, deps);
  return {
    secretId: input.secretId,
    rotationId,
    trigger: input.trigger,
    mode: "rotate",
    route: routeOf(existing),
  };
}

async function recordStart(
  input: BeginRotationInput,
  rotationId: string,
  reason: string | undefined,
  settings: SecretSettings,
  deps: BeginDeps,
): Promise<RotationRecord> {
  const now = deps.clock.now().toISOString();
  // The compromised key is the one AWSCURRENT held at the request (the recorded current): the
  // emergency's break-glass applies to it alone. If CreateNext finds another key current, the
  // emergency never breaks the glass and the rotation stalls like a normal one (the safe side).
  const compromised = reason
    ? (await deps.store.getVersions(input.secretId))?.current?.exchangeKeyId
    : undefined;
  const emergency: EmergencyRecord | undefined = reason
    ? { reason, actor: input.actor, requestedAt: now, keyIds: compromised ? [compromised] : [] }
    : undefined;
  const record: RotationRecord = {
    secretId: input.secretId,
    rotationId,
    trigger: input.trigger,
    phase: "started",
    startedAt: now,
    updatedAt: now,
    ...(emergency ? { emergency } : {}),
  };
  await deps.store.putRotation(record, input.executionName);
  await deps.audit.append({
    secretId: input.secretId,
    actor: input.actor,
    action: emergency ? "emergency-rotation-started" : "rotation-started",
    details: {
      rotationId,
      trigger: input.trigger,
      ...(emergency ? { reason: emergency.reason, keyIds: emergency.keyIds ?? [] } : {}),
    },
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
        compromisedKeyId: compromised ?? "",
        action: `consumers that have not switched ${deadline}s after the command will fail: \`keyshift status ${input.secretId}\``,
      },
    });
  }
  return record;
}

/** Incident path b: earlier keys are revoked under the emergency's break-glass, or the emergency is refused. */
async function freeEarlierKeys(
  rotation: RotationRecord,
  actor: string,
  settings: SecretSettings,
  deps: BeginDeps,
): Promise<void> {
  const emergency = rotation.emergency;
  const compromisedKeyId = emergency?.keyIds?.[0];
  if (!emergency || !compromisedKeyId) return;
  const { secretId, rotationId } = rotation;
  const blocking = await breakGlassOnEarlierKeys(
    {
      secretId,
      rotationId,
      account: settings.exchangeAccount,
      compromisedKeyId,
      reason: emergency.reason,
      requestedBy: emergency.actor,
    },
    deps,
  );
  if (blocking.length === 0) return;
  const refusal = earlierKeysRefusal(secretId, compromisedKeyId, blocking);
  const now = deps.clock.now().toISOString();
  // Nothing was created: the rotation ends here and frees the lock (I4).
  await deps.store.putRotation(
    { ...rotation, phase: "aborted", outcome: "emergency-refused", updatedAt: now },
    rotationId,
  );
  await deps.audit.append({
    secretId,
    actor,
    action: "emergency-refused",
    details: { rotationId, blockingKeyIds: blocking.map((b) => b.entry.keyId), compromisedKeyId },
  });
  await deps.alerts.send({
    kind: "emergency-rotation",
    secretId,
    subject: `keyshift: EMERGENCY rotation of ${secretId} refused: the compromised key ${compromisedKeyId} is still active`,
    details: { rotationId, compromisedKeyId, action: refusal.message },
  });
  await deps.lock.release(secretId, rotationId);
  throw refusal;
}

async function resume(
  input: BeginRotationInput,
  settings: Parameters<typeof leaseSecondsFor>[0],
  deps: BeginDeps,
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
  const route = routeOf(rotation);
  const live = rotation && !FINAL_PHASES.includes(rotation.phase);
  // The record first, then the lock: from the claim on, whoever wrote it before (the execution this
  // one replaces — even one still mid-step —, an operator command) is fenced out of it.
  const claimed = live
    ? await claimForExecution(deps, secretId, held.rotationId, executionName, drivingExecution(held))
    : undefined;
  try {
    if (!held.stalled && drivingExecution(held) !== executionName)
      await stallLostExecution(deps, held, now, input.actor);
    // Conditional: stalled and no operator command holding it, or this same execution re-entering.
    await deps.lock.resume(secretId, held.rotationId, executionName, now, leaseSecondsFor(settings));
  } catch (err) {
    // Not adopted: the record goes back to whoever wrote it before, or to the lock's driver.
    if (claimed)
      await giveRecordBack(deps, {
        secretId,
        rotationId: held.rotationId,
        from: executionName,
        to: rotation?.fence,
      });
    throw err;
  }
  if (claimed) {
    // A resumed wait gets a whole new deadline, counted from now.
    await deps.store
      .putRotation(
        {
          ...claimed,
          phase: route === "wait" ? "promoted" : claimed.phase,
          deadlineAt: undefined,
          updatedAt: now.toISOString(),
        },
        executionName,
      )
      .catch((err: unknown) =>
        stallFencedOut(deps, { secretId, rotationId: held.rotationId, execution: executionName }, err),
      );
  }
  await deps.audit.append({
    secretId,
    actor: input.actor,
    action: "rotation-resumed",
    details: { rotationId: held.rotationId, route, executionName },
  });
  if (rotation && !emergencyInForce(rotation))
    await alertCompromisedCurrent(deps, rotation, input.actor, "resumed");
  return { secretId, rotationId: held.rotationId, trigger: input.trigger, mode: "resume", route };
}
