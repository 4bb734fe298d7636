import { InvalidInputError, OperatorActionRejectedError, RotationStateError } from "../errors";
import { fingerprint } from "../fingerprint";
import { type ConsumerRegistration, lockStillRunning, type SecretSettings, STAGE } from "../model";
import { principalKey } from "../principal";
import { EVENTS_PER_CHECK, MAX_WAIT_EVENTS, maxChecks } from "../readiness";
import { ledgerEntryId } from "../tokens";
import { type Deps, parseKeySecret, requireSettings } from "./deps";
import { attemptRevocation, newLedgerEntry } from "./revocation";

/** The rotation ASL's `TimeoutSeconds` is 14 days; the wait must end well before it. */
export const MAX_DEADLINE_SECONDS = 13 * 24 * 3600;

/**
 * Enroll a secret: validate its settings and record the current version's fingerprint, so the
 * heartbeat path can answer before the first rotation.
 */
export async function enrollSecret(
  settings: Omit<SecretSettings, "enrolledAt">,
  actor: string,
  deps: Pick<Deps, "secrets" | "store" | "audit" | "clock">,
): Promise<SecretSettings> {
  if (settings.deadlineSeconds > MAX_DEADLINE_SECONDS) {
    throw new InvalidInputError(
      `${settings.secretId}: deadlineSeconds ${settings.deadlineSeconds} is past the state machine's ` +
        `TimeoutSeconds; at most ${MAX_DEADLINE_SECONDS} (the execution must reach MarkStalled, not time out)`,
    );
  }
  const checks = maxChecks(settings);
  if (checks * EVENTS_PER_CHECK > MAX_WAIT_EVENTS) {
    throw new InvalidInputError(
      `${settings.secretId}: deadlineSeconds ${settings.deadlineSeconds} with maxPollIntervalSeconds ` +
        `${settings.maxPollIntervalSeconds} needs up to ${checks} consumer checks, over the ` +
        `${MAX_WAIT_EVENTS / EVENTS_PER_CHECK} a Standard execution's history can hold; raise maxPollIntervalSeconds`,
    );
  }
  const versions = await deps.secrets.listVersions(settings.secretId);
  const current = versions.find((v) => v.stages.includes(STAGE.current));
  if (!current) throw new RotationStateError(`secret ${settings.secretId} has no ${STAGE.current} version`);
  const { value } = await deps.secrets.getValue(settings.secretId, { versionId: current.versionId });
  const key = parseKeySecret(settings.secretId, current.versionId, value);
  if (key.account !== settings.exchangeAccount) {
    throw new InvalidInputError(
      `secret ${settings.secretId} holds a key of account ${key.account}, not ${settings.exchangeAccount}`,
    );
  }
  const now = deps.clock.now().toISOString();
  const enrolled: SecretSettings = { ...settings, enrolledAt: now };
  await deps.store.putSettings(enrolled);
  const recorded = await deps.store.getVersions(settings.secretId);
  if (recorded?.current?.versionId !== current.versionId) {
    await deps.store.putVersions({
      secretId: settings.secretId,
      current: { versionId: current.versionId, fingerprint: fingerprint(value), exchangeKeyId: key.keyId },
      promotedAt: now,
      updatedAt: now,
    });
  }
  await deps.audit.append({
    secretId: settings.secretId,
    actor,
    action: "secret-enrolled",
    details: {
      exchangeAccount: settings.exchangeAccount,
      currentVersionId: current.versionId,
      keyId: key.keyId,
    },
  });
  return enrolled;
}

/** Register a consumer of a secret; the principal is stored normalized (see `principalKey`). */
export async function registerConsumer(
  consumer: Omit<ConsumerRegistration, "registeredAt">,
  actor: string,
  deps: Pick<Deps, "store" | "consumers" | "audit" | "clock">,
): Promise<ConsumerRegistration> {
  await requireSettings(deps.store, consumer.secretId);
  const registration: ConsumerRegistration = {
    ...consumer,
    principalArn: principalKey(consumer.principalArn),
    registeredAt: deps.clock.now().toISOString(),
  };
  await deps.consumers.register(registration);
  await deps.audit.append({
    secretId: consumer.secretId,
    actor,
    action: "consumer-registered",
    details: {
      consumerId: consumer.consumerId,
      principalArn: registration.principalArn,
      required: consumer.required,
      cacheTtlSeconds: consumer.cacheTtlSeconds,
      heartbeatIntervalSeconds: consumer.heartbeatIntervalSeconds,
    },
  });
  return registration;
}

async function heldRotation(deps: Pick<Deps, "lock" | "store">, secretId: string) {
  const held = await deps.lock.get(secretId);
  if (!held)
    throw new OperatorActionRejectedError(`no rotation of ${secretId} holds the lock: nothing to act on`);
  const rotation = await deps.store.getRotation(secretId, held.rotationId);
  if (!rotation?.previous || !rotation.current) {
    throw new OperatorActionRejectedError(
      `rotation ${held.rotationId} of ${secretId} has not promoted yet (phase ${rotation?.phase ?? "unknown"}); ` +
        "only a promoted or stalled rotation can be force-revoked or rolled back",
    );
  }
  return { held, rotation, previous: rotation.previous, current: rotation.current };
}

/**
 * Operator override: revoke the previous key now, lagging consumers or not, and finish the rotation.
 * Refused while the rotation's execution is still running (resume or wait for the stall).
 */
export async function forceRevoke(
  input: { secretId: string; actor: string; reason: string },
  deps: Pick<Deps, "store" | "lock" | "ledger" | "exchange" | "audit" | "alerts" | "clock" | "revocation">,
) {
  const settings = await requireSettings(deps.store, input.secretId);
  const { held, rotation, previous } = await heldRotation(deps, input.secretId);
  const now = deps.clock.now();
  if (lockStillRunning(held, now)) {
    throw new OperatorActionRejectedError(
      `rotation ${held.rotationId} of ${input.secretId} is still running; force-revoke only a stalled rotation`,
    );
  }
  await deps.audit.append({
    secretId: input.secretId,
    actor: input.actor,
    action: "force-revoke-requested",
    details: { rotationId: held.rotationId, keyId: previous.exchangeKeyId, reason: input.reason },
  });
  const entry = await deps.ledger.openPending(
    newLedgerEntry(
      {
        secretId: input.secretId,
        exchangeAccount: settings.exchangeAccount,
        keyId: previous.exchangeKeyId,
        versionId: previous.versionId,
        rotationId: held.rotationId,
      },
      ledgerEntryId(settings.exchangeAccount, previous.exchangeKeyId),
      now,
    ),
  );
  const attempt = await attemptRevocation(entry, input.actor, deps);
  await deps.store.putRotation({
    ...rotation,
    phase: "force-revoked",
    outcome: "force-revoked",
    updatedAt: now.toISOString(),
  });
  await deps.lock.release(input.secretId, held.rotationId);
  return {
    rotationId: held.rotationId,
    keyId: previous.exchangeKeyId,
    ledger: attempt.entry.status,
    error: attempt.error,
  };
}

/**
 * Operator override: move AWSCURRENT back to the previous version while its key is still valid.
 * The abandoned key becomes the previous one, so `resume` then waits for consumers to move back
 * and revokes it through the same gate.
 */
export async function rollback(
  input: { secretId: string; actor: string; reason: string },
  deps: Pick<Deps, "secrets" | "store" | "lock" | "ledger" | "exchange" | "audit" | "clock">,
) {
  const settings = await requireSettings(deps.store, input.secretId);
  const { held, rotation, previous, current } = await heldRotation(deps, input.secretId);
  const entry = await deps.ledger.get(ledgerEntryId(settings.exchangeAccount, previous.exchangeKeyId));
  const listing = await deps.exchange.listKeys(settings.exchangeAccount);
  const stillActive = listing.keys.some((k) => k.keyId === previous.exchangeKeyId && k.status === "active");
  if (entry || !stillActive) {
    throw new OperatorActionRejectedError(
      `cannot roll back ${input.secretId}: previous key ${previous.exchangeKeyId} is ` +
        `${entry ? `in the revocation ledger (${entry.status})` : "no longer active on the exchange"}`,
    );
  }
  if (lockStillRunning(held, deps.clock.now())) {
    throw new OperatorActionRejectedError(
      `rotation ${held.rotationId} of ${input.secretId} is still running; roll back only a stalled rotation`,
    );
  }
  await deps.secrets.moveStage(input.secretId, STAGE.current, {
    to: previous.versionId,
    from: current.versionId,
  });
  const now = deps.clock.now().toISOString();
  await deps.store.putVersions({
    secretId: input.secretId,
    current: previous,
    previous: current,
    promotedAt: now,
    updatedAt: now,
  });
  await deps.store.putRotation({
    ...rotation,
    phase: "rolled-back",
    current: previous,
    previous: current,
    deadlineAt: undefined,
    updatedAt: now,
  });
  await deps.audit.append({
    secretId: input.secretId,
    actor: input.actor,
    action: "rotation-rolled-back",
    details: {
      rotationId: held.rotationId,
      currentVersionId: previous.versionId,
      abandonedKeyId: current.exchangeKeyId,
      reason: input.reason,
    },
  });
  return {
    rotationId: held.rotationId,
    currentVersionId: previous.versionId,
    abandonedKeyId: current.exchangeKeyId,
  };
}
