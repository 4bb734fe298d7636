import type { Deps } from "../deps";
import { RotationInProgressError } from "../errors";
import {
  DEFAULT_EMERGENCY_DEADLINE_SECONDS,
  type EmergencyRecord,
  type LockRecord,
  type RotationRecord,
  type SecretSettings,
} from "../model";
import { drivingExecution, lockStillRunning } from "../rotation/lock";
import { refuse, rerun } from "./refusal";
import { compromisedKeyCurrent, emergencyCovers, emergencyInForce } from "./rules";
import { takeOverForEmergency } from "./takeover";

export type EscalationDeps = Pick<Deps, "store" | "lock" | "audit" | "alerts" | "clock">;

export interface EscalationInput {
  secretId: string;
  executionName: string;
  actor: string;
  reason: string;
}

export interface Escalated {
  rotationId: string;
  route: "create" | "wait" | "revoke";
  /** The compromised key(s) the escalated rotation's break-glass may kill. */
  keyIds: string[];
  /** The current key, handed out before the report: a fresh `rotate --compromised` replaces it after. */
  followUpKeyId?: string;
}

/**
 * `rotate --compromised` on a secret whose lock a rotation holds: escalate that rotation to an
 * emergency instead of refusing (incident path a). Returns undefined when there is nothing to
 * escalate into (the caller then reports the original refusal).
 * 1. Refuse — with why and what to run — while an operator command holds the secret, a rollback
 *    is unfinished, the emergency already covers the key, or the running rotation has not promoted
 *    yet (taking over an execution mid-CreateNext could revoke the key it is storing; it promotes
 *    within minutes, then the same command escalates it).
 * 2. Audit and alert the escalation BEFORE anything changes.
 * 3. This execution takes the rotation over with the lock's fencing (a running execution is stalled
 *    conditionally on still being the one that drives it, then resumed by this one), so the
 *    execution it replaces stops at its next step and the wait — which may be sleeping for many
 *    minutes — restarts at once with emergency settings.
 * 4. Record the emergency on the rotation (keys it may kill, the deadline's start, the follow-up
 *    key) and clear the deadline: CheckConsumers recomputes it from the escalation.
 */
export async function escalateToEmergency(
  input: EscalationInput,
  settings: SecretSettings,
  deps: EscalationDeps,
): Promise<Escalated | undefined> {
  const { secretId } = input;
  const now = deps.clock.now();
  const held = await deps.lock.get(secretId);
  if (!held) return undefined;
  const rotation = await deps.store.getRotation(secretId, held.rotationId);
  // A retried BeginRotation of this very execution (its first attempt escalated, then its answer
  // was lost): finish what is left of it — never refuse the rotation this execution now drives.
  const reentry = Boolean(rotation) && !held.stalled && drivingExecution(held) === input.executionName;
  if (reentry && rotation?.emergency?.escalatedAt) return escalatedAs(rotation, rotation.emergency);
  const escalatable = refuseUnlessEscalatable(held, rotation, reentry, secretId, now);
  const target = await keyToRetire(deps, escalatable);
  const running = !held.stalled && lockStillRunning(held, now);
  if (!reentry && running && emergencyInForce(escalatable) && emergencyCovers(escalatable, target)) {
    throw new RotationInProgressError(
      `${secretId} is already under emergency rotation ${escalatable.rotationId} for key ${target}: it dies by its deadline; nothing to escalate`,
    );
  }
  const emergency = emergencyFor(input, escalatable, target, now);
  const route = routeOf(escalatable);
  // A re-entry already audited, alerted and took the lock over: only the record is left to write.
  if (!reentry) {
    await announceEscalation(deps, input, settings, escalatable, held, emergency, target);
    await takeOverForEmergency(deps, input, settings, escalatable, target, now);
  }
  // Re-read: the execution replaced above may have written the record since the first read.
  const latest = (await deps.store.getRotation(secretId, escalatable.rotationId)) ?? escalatable;
  await deps.store.putRotation(
    {
      ...latest,
      phase: route === "wait" && latest.previous ? "promoted" : latest.phase,
      emergency,
      deadlineAt: undefined,
      updatedAt: now.toISOString(),
    },
    input.executionName,
  );
  return escalatedAs(escalatable, emergency);
}

function escalatedAs(rotation: RotationRecord, emergency: EmergencyRecord): Escalated {
  return {
    rotationId: rotation.rotationId,
    route: routeOf(rotation),
    keyIds: emergency.keyIds ?? [],
    ...(emergency.followUpKeyId ? { followUpKeyId: emergency.followUpKeyId } : {}),
  };
}

/** Step 1: the refusals that need only the lock and the record (what to run is in each message). */
function refuseUnlessEscalatable(
  held: LockRecord,
  rotation: RotationRecord | undefined,
  reentry: boolean,
  secretId: string,
  now: Date,
): RotationRecord {
  if (!rotation || rotation.trigger === "operator") {
    throw refuse(
      `an operator command holds ${secretId} (${held.rotationId}, until ${held.operatorUntil ?? held.leaseExpiresAt}); ` +
        `re-run ${rerun(secretId)} once it has finished`,
    );
  }
  if (rotation.rollback) {
    throw refuse(
      `rotation ${rotation.rotationId} of ${secretId} has an unfinished rollback, so which key is current is not settled: ` +
        `run \`keyshift rollback ${secretId} --reason "..."\` again to finish it, then ${rerun(secretId)}`,
    );
  }
  if (!reentry && held.operator && held.operatorUntil && Date.parse(held.operatorUntil) >= now.getTime()) {
    throw refuse(
      `operator command ${held.operator} holds rotation ${rotation.rotationId} of ${secretId} until ${held.operatorUntil}; ` +
        `re-run ${rerun(secretId)} after it`,
    );
  }
  if (!reentry && !held.stalled && lockStillRunning(held, now) && !rotation.previous) {
    throw refuse(
      `rotation ${rotation.rotationId} of ${secretId} is making its new key (phase ${rotation.phase}) and promotes it within ` +
        `minutes; taking it over mid-step could revoke the key it is storing. Re-run ${rerun(secretId)} once ` +
        `\`keyshift status ${secretId}\` shows it promoted: that escalates it and the old key dies by the emergency deadline`,
    );
  }
  return rotation;
}

/** The compromised key: the one the rotation retires (its previous), else the current one. */
async function keyToRetire(deps: Pick<Deps, "store">, rotation: RotationRecord): Promise<string> {
  const versions = await deps.store.getVersions(rotation.secretId);
  const target =
    rotation.previous?.exchangeKeyId ?? rotation.current?.exchangeKeyId ?? versions?.current?.exchangeKeyId;
  if (!target)
    throw refuse(`rotation ${rotation.rotationId} of ${rotation.secretId} records no key to retire`);
  return target;
}

/**
 * Step 4's record: the keys the break-glass may kill (break 6: only those), when the deadline
 * counts from, and — once promoted — the current key as the follow-up.
 */
function emergencyFor(
  input: EscalationInput,
  rotation: RotationRecord,
  target: string,
  now: Date,
): EmergencyRecord {
  const followUpKeyId = rotation.previous ? rotation.current?.exchangeKeyId : undefined;
  const previousEmergency = rotation.emergency;
  return {
    reason: input.reason,
    actor: input.actor,
    // A key the emergency already named keeps its deadline; a newly named one counts from now.
    requestedAt:
      previousEmergency && emergencyCovers(rotation, target)
        ? previousEmergency.requestedAt
        : now.toISOString(),
    keyIds: [...new Set([...(previousEmergency?.keyIds ?? []), target])],
    escalatedAt: now.toISOString(),
    ...(followUpKeyId ? { followUpKeyId } : {}),
  };
}

/** Step 2: audited and alerted BEFORE anything changes. */
async function announceEscalation(
  deps: EscalationDeps,
  input: EscalationInput,
  settings: SecretSettings,
  rotation: RotationRecord,
  held: LockRecord,
  emergency: EmergencyRecord,
  target: string,
): Promise<void> {
  const { secretId } = input;
  const { followUpKeyId } = emergency;
  const details = {
    rotationId: rotation.rotationId,
    keyIds: emergency.keyIds ?? [],
    followUpKeyId: followUpKeyId ?? null,
    reason: input.reason,
    phase: rotation.phase,
    takenOverFrom: drivingExecution(held),
    executionName: input.executionName,
  };
  await deps.audit.append({ secretId, actor: input.actor, action: "emergency-escalated", details });
  const deadline = settings.emergencyDeadlineSeconds ?? DEFAULT_EMERGENCY_DEADLINE_SECONDS;
  await deps.alerts.send({
    kind: "emergency-rotation",
    secretId,
    subject: `keyshift: EMERGENCY: rotation ${rotation.rotationId} of ${secretId} escalated (suspected compromise)`,
    details: {
      ...details,
      followUpKeyId: followUpKeyId ?? "",
      action:
        `key ${target} dies ${deadline}s after this command, consumers or not: \`keyshift status ${secretId}\`` +
        (followUpKeyId
          ? `; the current key ${followUpKeyId} may be exposed too: once this rotation completes run ${rerun(secretId)} to replace it`
          : ""),
    },
  });
}

/** Where a rotation goes next: make a key, wait for consumers, or revoke. */
export function routeOf(rotation: RotationRecord | undefined): Escalated["route"] {
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

/**
 * The rotation's current key is one an emergency named (a rollback moved AWSCURRENT back onto the
 * compromised key — break 6) or its escalation's follow-up key: the emergency cannot retire it.
 * Audit and alert, saying what this rotation still does and what to run. Called by a resume and
 * by the rotation's completion.
 */
export async function alertCompromisedCurrent(
  deps: Pick<Deps, "audit" | "alerts">,
  rotation: RotationRecord,
  actor: string,
  when: "resumed" | "completed",
): Promise<void> {
  const keyId = compromisedKeyCurrent(rotation);
  if (!keyId || !rotation.emergency) return;
  const { secretId, rotationId } = rotation;
  const again = rotation.emergency.keyIds?.includes(keyId) ?? false;
  const doing =
    when === "resumed"
      ? `this rotation now retires key ${rotation.previous?.exchangeKeyId ?? "?"} through the normal gate (no break-glass: it is not the compromised key); `
      : "";
  const action = `${doing}run ${rerun(secretId)} ${when === "resumed" ? "(now: it escalates this rotation; or after it completes)" : "now"} to replace key ${keyId}`;
  await deps.audit.append({
    secretId,
    actor,
    action: again ? "emergency-compromised-key-current" : "emergency-follow-up-required",
    details: { rotationId, compromisedKeyId: keyId, when, reason: rotation.emergency.reason },
  });
  await deps.alerts.send({
    kind: "emergency-rotation",
    secretId,
    subject: again
      ? `keyshift: the compromised key ${keyId} of ${secretId} is current again; the emergency cannot complete`
      : `keyshift: the current key ${keyId} of ${secretId} may be exposed too; it needs its own emergency rotation`,
    details: { rotationId, compromisedKeyId: keyId, reason: rotation.emergency.reason, action },
  });
}
