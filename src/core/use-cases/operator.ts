import { InvalidInputError, RotationStateError } from "../errors";
import { fingerprint } from "../fingerprint";
import { heartbeatIntervals } from "../heartbeat-policy";
import { type ConsumerRegistration, type SecretSettings, STAGE } from "../model";
import { EVENTS_PER_CHECK, MAX_DEADLINE_SECONDS, MAX_WAIT_EVENTS, maxChecks } from "../readiness";
import { validRegistration } from "../registry-rules";
import { nextScheduledStart } from "../schedule";
import { type Deps, parseKeySecret, requireSettings } from "./deps";
import { planReadPolicy, type ReadPolicyDeps, syncReadPolicy } from "./read-policy";

export { forceRevoke, requeueRevocation, rollback } from "./operator-actions";
export { removeConsumer } from "./remove-consumer";

/** The rotation ASL's `TimeoutSeconds` is 14 days; the wait must end well before it (readiness.ts). */
export { MAX_DEADLINE_SECONDS };

/**
 * Enroll a secret: validate its settings, record the current version's fingerprint, so the
 * heartbeat path can answer before the first rotation, and make its read policy the registry's.
 *
 * A re-enrollment does not read the value: the read policy denies it to the operator (only
 * registered consumers and keyshift's own readers may read), and the versions record already
 * belongs to the workflow. It checks the account against the enrolled settings instead.
 */
export async function enrollSecret(
  settings: Omit<SecretSettings, "enrolledAt">,
  actor: string,
  deps: Pick<Deps, "secrets" | "store" | "consumers" | "audit" | "clock"> & ReadPolicyDeps,
): Promise<SecretSettings> {
  await requireOverlapCoversConsumers(settings, deps);
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
  // Fails on a missing reader role or an oversized policy before anything is written.
  await planReadPolicy(deps, settings.secretId);
  const versions = await deps.secrets.listVersions(settings.secretId);
  const current = versions.find((v) => v.stages.includes(STAGE.current));
  if (!current) throw new RotationStateError(`secret ${settings.secretId} has no ${STAGE.current} version`);
  // Only a first enrollment records the versions: afterwards they belong to the rotation workflow,
  // and a re-enrollment that read the labels just before a promotion would put the old key back.
  const recorded = await deps.store.getVersions(settings.secretId);
  const previous = recorded && (await deps.store.getSettings(settings.secretId));
  let first: { fingerprint: string; keyId: string; permissions: string[] } | undefined;
  if (previous) {
    if (previous.exchangeAccount !== settings.exchangeAccount) {
      throw new InvalidInputError(
        `secret ${settings.secretId} is enrolled for account ${previous.exchangeAccount}, not ` +
          `${settings.exchangeAccount}: an enrolled secret cannot change account; enroll a new secret instead`,
      );
    }
  } else {
    const { value } = await deps.secrets.getValue(settings.secretId, { versionId: current.versionId });
    const key = parseKeySecret(settings.secretId, current.versionId, value);
    if (key.account !== settings.exchangeAccount) {
      throw new InvalidInputError(
        `secret ${settings.secretId} holds a key of account ${key.account}, not ${settings.exchangeAccount}`,
      );
    }
    first = { fingerprint: fingerprint(value), keyId: key.keyId, permissions: key.permissions };
  }
  const now = deps.clock.now().toISOString();
  // When keyshift took the secret over: reads before it are not keyshift's to judge (secret-read.ts).
  const enrolled: SecretSettings = { ...settings, enrolledAt: previous?.enrolledAt ?? now };
  await deps.store.putSettings(enrolled);
  if (!recorded && first) {
    await deps.store.putVersions({
      secretId: settings.secretId,
      current: {
        versionId: current.versionId,
        fingerprint: first.fingerprint,
        exchangeKeyId: first.keyId,
        permissions: first.permissions,
      },
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
      keyId: first?.keyId ?? recorded?.current?.exchangeKeyId ?? null,
      recordedCurrentVersionId: recorded?.current?.versionId ?? current.versionId,
    },
  });
  await syncReadPolicy(deps, settings.secretId, actor);
  return enrolled;
}

/**
 * The overlap must outlast the longest cache TTL of the secret's consumers (one that never hears
 * `stale` still refreshes by then) and the idle heartbeat interval (an instance told to come back
 * in that long is heard from before the overlap ends). Checked with the intervals themselves.
 */
async function requireOverlapCoversConsumers(
  settings: Omit<SecretSettings, "enrolledAt">,
  deps: Pick<Deps, "consumers">,
): Promise<void> {
  const { secretId, minOverlapSeconds } = settings;
  const {
    idleHeartbeatSeconds: idle,
    activeHeartbeatSeconds: active,
    livenessGraceSeconds: grace,
  } = heartbeatIntervals(settings);
  const whole = (n: number, min: number) => Number.isInteger(n) && n >= min;
  if (!whole(active, 1) || !whole(idle, active) || !whole(grace, 0)) {
    throw new InvalidInputError(
      `${secretId}: heartbeat intervals must be whole seconds with 1 <= activeHeartbeatSeconds (${active}) ` +
        `<= idleHeartbeatSeconds (${idle}) and livenessGraceSeconds (${grace}) >= 0`,
    );
  }
  if (settings.schedule !== undefined && !nextScheduledStart(settings.schedule, new Date(), new Date())) {
    throw new InvalidInputError(
      `${secretId}: schedule "${settings.schedule}" is not a rate(...) or cron(...) expression with a next start; fix it in the enrollment config`,
    );
  }
  const consumers = await deps.consumers.listConsumers(secretId);
  const longest = consumers.reduce(
    (max, c) => (c.cacheTtlSeconds > max.ttl ? { ttl: c.cacheTtlSeconds, id: c.consumerId } : max),
    { ttl: 0, id: "" },
  );
  const needed = Math.max(longest.ttl, idle);
  if (!(minOverlapSeconds >= needed)) {
    throw new InvalidInputError(
      `${secretId}: minOverlapSeconds ${minOverlapSeconds} does not cover the longest consumer cache TTL ` +
        `(${longest.ttl}s${longest.id ? `, ${longest.id}` : ""}) and the idle heartbeat interval ` +
        `(idleHeartbeatSeconds ${idle}s): set minOverlapSeconds to at least ${needed}, or lower ` +
        "idleHeartbeatSeconds / the consumers' cacheTtlSeconds",
    );
  }
}

/**
 * Register a consumer of a secret (or change the settings of a registered one).
 * 1. Validate the id and numbers; normalize the principal (see `validRegistration`).
 * 2. Refuse a principal already registered for the secret under another id: heartbeats are
 *    credited by principal, so the other id would never be live and every rotation would stall.
 * 3. Refuse a registration the read policy could not hold (size limit) before it is stored, so the
 *    registry never lists a consumer the policy denies.
 * 4. Write the registration, audit it, make the secret's read policy let it read.
 */
export async function registerConsumer(
  consumer: Omit<ConsumerRegistration, "registeredAt">,
  actor: string,
  deps: Pick<Deps, "store" | "consumers" | "audit" | "clock"> & ReadPolicyDeps,
): Promise<ConsumerRegistration> {
  const valid = validRegistration(consumer);
  await requireSettings(deps.store, consumer.secretId);
  const taken = (await deps.consumers.findByPrincipal(valid.principalArn, valid.secretId)).find(
    (c) => c.consumerId !== valid.consumerId,
  );
  if (taken) {
    throw new InvalidInputError(
      `principal ${valid.principalArn} is already registered for ${valid.secretId} as consumer "${taken.consumerId}": ` +
        `one principal reports for one consumer. Register "${taken.consumerId}" again to change its settings, or ` +
        `\`keyshift consumers remove ${valid.secretId} ${taken.consumerId} --reason "..."\` first`,
    );
  }
  const registration: ConsumerRegistration = { ...valid, registeredAt: deps.clock.now().toISOString() };
  await planReadPolicy(deps, consumer.secretId, [registration.principalArn]);
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
  await syncReadPolicy(deps, consumer.secretId, actor);
  return registration;
}
