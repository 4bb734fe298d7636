import { heartbeatIntervals } from "../consumers/heartbeat-policy";
import { activeRotation } from "../consumers/registry-guard";
import { gateWeakenings, validRegistration } from "../consumers/registry-rules";
import { type Deps, parseKeySecret, requireSettings } from "../deps";
import { historyBudgetProblem, overlapNeededSeconds } from "../enrollment/wait-rules";
import { InvalidInputError, OperatorActionRejectedError, RotationStateError } from "../errors";
import { fingerprint } from "../fingerprint";
import { type ConsumerRegistration, type SecretSettings, STAGE } from "../model";
import { planReadPolicy, type ReadPolicyDeps, syncReadPolicy } from "../read-policy/sync";
import { MAX_DEADLINE_SECONDS } from "../revocation/readiness";
import { nextScheduledStart } from "../schedule";

export { removeConsumer } from "../consumers/remove-consumer";
export { forceRevoke, requeueRevocation, rollback } from "./actions";

/** The rotation ASL's `TimeoutSeconds` is 14 days; the wait must end well before it (revocation/readiness.ts). */
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
  provisioning: ProvisioningRequest = {},
): Promise<SecretSettings> {
  await requireOverlapCoversConsumers(settings, deps);
  requireWaitFitsExecution(settings);
  // Fails on a missing reader role or an oversized policy before anything is written.
  await planReadPolicy(deps, settings.secretId);
  const versions = await deps.secrets.listVersions(settings.secretId);
  const current = versions.find((v) => v.stages.includes(STAGE.current));
  if (!current) throw new RotationStateError(`secret ${settings.secretId} has no ${STAGE.current} version`);
  // Only a first enrollment records the versions: afterwards they belong to the rotation workflow,
  // and a re-enrollment that read the labels just before a promotion would put the old key back.
  const recorded = await deps.store.getVersions(settings.secretId);
  const previous = recorded && (await deps.store.getSettings(settings.secretId));
  const first = previous
    ? requireSameAccount(settings, previous)
    : await readFirstKey(settings, current.versionId, deps);
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
      // The chain's first entry carries what the enrollment record says: `audit verify` checks the
      // two agree, so a trail deleted whole and restarted does not verify (break 15).
      enrolledAt: enrolled.enrolledAt,
      exchangeAccount: settings.exchangeAccount,
      currentVersionId: current.versionId,
      keyId: first?.keyId ?? recorded?.current?.exchangeKeyId ?? null,
      recordedCurrentVersionId: recorded?.current?.versionId ?? current.versionId,
      // The provisioning record (who asked, what for, which ticket): the requester is `actor`.
      purpose: provisioning.purpose ?? null,
      ticket: provisioning.ticket ?? null,
      scope: first?.permissions ?? recorded?.current?.permissions ?? [],
    },
  });
  await syncReadPolicy(deps, settings.secretId, actor);
  return enrolled;
}

/** What the requester says about an enrollment (`keyshift enroll --purpose --ticket`). */
export interface ProvisioningRequest {
  purpose?: string;
  ticket?: string;
}

/** The wait must end in MarkStalled within the execution's timeout and its history's event budget. */
function requireWaitFitsExecution(settings: Omit<SecretSettings, "enrolledAt">): void {
  if (settings.deadlineSeconds > MAX_DEADLINE_SECONDS) {
    throw new InvalidInputError(
      `${settings.secretId}: deadlineSeconds ${settings.deadlineSeconds} is past the state machine's ` +
        `TimeoutSeconds; at most ${MAX_DEADLINE_SECONDS} (the execution must reach MarkStalled, not time out)`,
    );
  }
  // The same rule `enroll --config` and packaging apply (core/enrollment), here on the settings stored.
  const budget = historyBudgetProblem(settings);
  if (budget) throw new InvalidInputError(`${settings.secretId}: ${budget}`);
}

/** A re-enrollment reads no value: it may not change the account (nothing new is recorded). */
function requireSameAccount(
  settings: Omit<SecretSettings, "enrolledAt">,
  previous: SecretSettings,
): undefined {
  if (previous.exchangeAccount !== settings.exchangeAccount) {
    throw new InvalidInputError(
      `secret ${settings.secretId} is enrolled for account ${previous.exchangeAccount}, not ` +
        `${settings.exchangeAccount}: an enrolled secret cannot change account; enroll a new secret instead`,
    );
  }
  return undefined;
}

/** A first enrollment reads the current key once: its fingerprint, id and scope are recorded. */
async function readFirstKey(
  settings: Omit<SecretSettings, "enrolledAt">,
  versionId: string,
  deps: Pick<Deps, "secrets">,
): Promise<{ fingerprint: string; keyId: string; permissions: string[] }> {
  const { value } = await deps.secrets.getValue(settings.secretId, { versionId });
  const key = parseKeySecret(settings.secretId, versionId, value);
  if (key.account !== settings.exchangeAccount) {
    throw new InvalidInputError(
      `secret ${settings.secretId} holds a key of account ${key.account}, not ${settings.exchangeAccount}`,
    );
  }
  return { fingerprint: fingerprint(value), keyId: key.keyId, permissions: key.permissions };
}

/**
 * The overlap must outlast the longest cache TTL of the secret's consumers (one that never hears
 * `stale` still refreshes by then) and the idle heartbeat interval (an instance told to come back
 * in that long is heard from before the overlap ends). Checked with the intervals themselves.
 */
async function requireOverlapCoversConsumers(
  settings: Omit<SecretSettings, "enrolledAt">,
  deps: Pick<Deps, "consumers" | "clock">,
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
  const now = deps.clock.now();
  if (settings.schedule !== undefined && !nextScheduledStart(settings.schedule, now, now)) {
    throw new InvalidInputError(
      `${secretId}: schedule "${settings.schedule}" is not a rate(...) or cron(...) expression with a next start; fix it in the enrollment config`,
    );
  }
  const consumers = await deps.consumers.listConsumers(secretId);
  const longest = consumers.reduce(
    (max, c) => (c.cacheTtlSeconds > max.ttl ? { ttl: c.cacheTtlSeconds, id: c.consumerId } : max),
    { ttl: 0, id: "" },
  );
  const needed = overlapNeededSeconds(idle, longest.ttl);
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
 * 2. While a rotation of the secret holds the lock, refuse a change that makes its gate wait less
 *    (`gateWeakenings`: required → optional, another principal, ...): like a removal, it would let
 *    the gate revoke the previous key a lagging consumer still uses, with no break-glass on record.
 * 3. Claim the principal for this id (one conditional write): heartbeats are credited by principal,
 *    so a second id would never be live and every rotation would stall. The claim decides races
 *    between concurrent registrations; the by-principal read also catches registrations older
 *    than claims.
 * 4. Refuse a registration the read policy could not hold (size limit) before it is stored, so the
 *    registry never lists a consumer the policy denies. A refusal gives back a claim it just took.
 * 5. Write the registration (then give back the old principal's claim), audit it, make the secret's
 *    read policy let it read.
 */
export async function registerConsumer(
  consumer: Omit<ConsumerRegistration, "registeredAt">,
  actor: string,
  deps: Pick<Deps, "store" | "lock" | "consumers" | "audit" | "clock"> & ReadPolicyDeps,
): Promise<ConsumerRegistration> {
  const valid = validRegistration(consumer);
  const { secretId, consumerId, principalArn } = valid;
  const settings = await requireSettings(deps.store, secretId);
  const before = (await deps.consumers.listConsumers(secretId)).find((c) => c.consumerId === consumerId);
  const weakenings = before ? gateWeakenings(before, valid, settings.minOverlapSeconds) : [];
  const rotation = weakenings.length > 0 ? await activeRotation(secretId, deps) : undefined;
  if (rotation) {
    throw new OperatorActionRejectedError(
      `rotation ${rotation.rotationId} of ${secretId} holds the lock (${rotation.state}): changing "${consumerId}" ` +
        `now (${weakenings.join("; ")}) would let it revoke the previous key without waiting for that consumer. ` +
        "Change it once the rotation has finished (a strengthening change, or a new consumer, is accepted now); " +
        `if it is stalled on this consumer, \`keyshift force-revoke ${secretId} --reason "..."\` first`,
    );
  }
  const fresh = before === undefined || before.principalArn !== principalArn;
  const holder = await deps.consumers.claimPrincipal(secretId, principalArn, consumerId);
  const release = () =>
    fresh ? deps.consumers.releasePrincipal(secretId, principalArn, consumerId) : Promise.resolve();
  const taken =
    holder !== consumerId
      ? holder
      : (await deps.consumers.findByPrincipal(principalArn, secretId)).find(
          (c) => c.consumerId !== consumerId,
        )?.consumerId;
  if (taken !== undefined) {
    if (holder === consumerId) await release();
    throw new InvalidInputError(
      `principal ${principalArn} is already registered for ${secretId} as consumer "${taken}": ` +
        `one principal reports for one consumer. Register "${taken}" again to change its settings, or ` +
        `\`keyshift consumers remove ${secretId} ${taken} --reason "..."\` first (that also finishes a ` +
        "registration or removal of it that did not complete)",
    );
  }
  const registration: ConsumerRegistration = { ...valid, registeredAt: deps.clock.now().toISOString() };
  try {
    await planReadPolicy(deps, secretId, [principalArn]);
    await deps.consumers.register(registration);
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
  if (before && before.principalArn !== principalArn) {
    await deps.consumers.releasePrincipal(secretId, before.principalArn, consumerId);
  }
  await deps.audit.append({
    secretId,
    actor,
    action: "consumer-registered",
    details: {
      consumerId,
      principalArn,
      required: valid.required,
      cacheTtlSeconds: valid.cacheTtlSeconds,
      heartbeatIntervalSeconds: valid.heartbeatIntervalSeconds,
    },
  });
  await syncReadPolicy(deps, secretId, actor);
  return registration;
}
