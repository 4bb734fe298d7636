import { type Deps, requireSettings } from "../deps";
import { InvalidInputError, OperatorActionRejectedError } from "../errors";
import { type ReadPolicyDeps, syncReadPolicy } from "../read-policy/sync";
import { activeRotation } from "./registry-guard";

export interface RemoveConsumerInput {
  secretId: string;
  consumerId: string;
  actor: string;
  reason: string;
}

export interface RemoveConsumerOutput {
  secretId: string;
  consumerId: string;
  /** Null when only leftovers (instance rows, a principal claim) of an interrupted removal were left. */
  principalArn: string | null;
  instancesRemoved: number;
}

/**
 * Take a consumer out of the registry: the gate stops waiting for it and its principal's
 * heartbeats are refused.
 *
 * Input: secret id, consumer id, actor, reason. Output: what was removed.
 * 1. Validate; the secret must be enrolled and the consumer registered (or its instance rows or
 *    principal claim left by a removal or registration that died half-way, which this finishes).
 * 2. Refuse while a rotation of the secret holds the lock (running or stalled): its gate would stop
 *    waiting for the consumer and revoke the previous key it may still use, with no break-glass on
 *    record. A stalled rotation waiting for a consumer that is gone is force-revoked first.
 * 3. Audit the removal with its reason BEFORE the first delete.
 * 4. Delete the registration, then its instance rows, then its principal claim.
 */
export async function removeConsumer(
  input: RemoveConsumerInput,
  deps: Pick<Deps, "store" | "lock" | "consumers" | "audit" | "clock"> & ReadPolicyDeps,
): Promise<RemoveConsumerOutput> {
  const { secretId, consumerId } = input;
  // No id rule here: ids registered before `consumers/registry-rules.ts` existed must stay removable. The
  // lookup below is by exact id among the registrations, so an odd id cannot reach a key.
  if (!input.reason.trim())
    throw new InvalidInputError('removing a consumer needs a reason (--reason "...")');
  await requireSettings(deps.store, secretId);
  const registration = (await deps.consumers.listConsumers(secretId)).find(
    (c) => c.consumerId === consumerId,
  );
  // What a removal (or a registration) that died half-way leaves: instance rows, a principal claim.
  const leftovers = registration
    ? 0
    : (await deps.consumers.listInstances(secretId)).filter((i) => i.consumerId === consumerId).length +
      (await deps.consumers.listPrincipalClaims(secretId)).filter((c) => c.consumerId === consumerId).length;
  if (!registration && leftovers === 0) {
    throw new InvalidInputError(
      `no consumer "${consumerId}" is registered for ${secretId}: see \`keyshift consumers list ${secretId}\``,
    );
  }
  const rotation = await activeRotation(secretId, deps);
  if (rotation) {
    throw new OperatorActionRejectedError(
      `rotation ${rotation.rotationId} of ${secretId} holds the lock (${rotation.state}): removing "${consumerId}" now ` +
        "would let it revoke the previous key without waiting for that consumer. Remove it once the rotation " +
        `has finished; if it is stalled on this consumer, \`keyshift force-revoke ${secretId} --reason "..."\` first`,
    );
  }
  await deps.audit.append({
    secretId,
    actor: input.actor,
    action: "consumer-removed",
    details: {
      consumerId,
      principalArn: registration?.principalArn ?? null,
      reason: input.reason,
    },
  });
  const { instancesRemoved } = await deps.consumers.deregister(secretId, consumerId);
  // Out of the registry, out of the read policy: its role may no longer read the secret.
  await syncReadPolicy(deps, secretId, input.actor);
  return { secretId, consumerId, principalArn: registration?.principalArn ?? null, instancesRemoved };
}
