import { type Deps, parseKeySecret, type RotationRef, requireSettings, writerOf } from "../deps";
import { RotationStateError } from "../errors";
import { fingerprint } from "../fingerprint";
import { ManualKeyNeededError } from "../manual/errors";
import { manualKeyRequest } from "../manual/request";
import { type ExchangeKeySecret, type RotationRecord, STAGE, type VersionRef } from "../model";
import type { LockedRevocationDeps } from "../revocation/through-ledger";
import { versionTokenFor } from "../tokens";
import { createAndStore, verifyOrThrow } from "./create-key";
import { holdLock } from "./lock";

export interface CreateNextOutput {
  current: VersionRef;
  next: VersionRef;
  /** True when an AWSPENDING version from an unfinished attempt was reused instead of a new key. */
  reused: boolean;
}

/**
 * CreateNext: a new exchange key stored as AWSPENDING.
 *
 * Input: secret id, rotation id. Output: refs (version id, fingerprint, key id) of current and next.
 * 1. The lock must be driven by this execution (renewed) — otherwise `RotationInProgressError`.
 * 2. Already promoted (a re-run after the promotion)? Return what was recorded.
 * 3. An AWSPENDING version exists: verify its key still authenticates and reuse it — never a third key.
 * 4. Revoke, through the ledger, keys this rotation created in a crashed attempt (found by label).
 * 5. Refuse with `ExchangeKeyLimitError` when the secret's previous key is still active, or is being
 *    or was restored (ledger `restoring`/`restored`: a third key for one secret), or the account is
 *    at its active-key limit, naming the unrevoked key and its ledger status.
 * 6. Create the key with the current key's permissions, verify it authenticates (testSecret), and
 *    store it with PutSecretValue + AWSPENDING and a token derived from the rotation. On a manual
 *    account only a person can: `ManualKeyNeededError`, and the workflow waits on a task
 *    (core/manual) until the key is provided as AWSPENDING, then comes back here (step 3).
 */
export async function createNext(input: RotationRef, deps: CreateNextDeps): Promise<CreateNextOutput> {
  const { secretId, rotationId } = input;
  const settings = await requireSettings(deps.store, secretId);
  await holdLock(deps, input, settings);

  const rotation = await deps.store.getRotation(secretId, rotationId);
  if (!rotation) throw new RotationStateError(`rotation ${rotationId} of ${secretId} was never begun`);
  const recordedDone = alreadyRecorded(rotation);
  if (recordedDone) return recordedDone;

  const versions = await deps.secrets.listVersions(secretId);
  const currentInfo = versions.find((v) => v.stages.includes(STAGE.current));
  if (!currentInfo) throw new RotationStateError(`secret ${secretId} has no ${STAGE.current} version`);
  if (rotation.current && rotation.next && currentInfo.versionId === rotation.next.versionId) {
    // Our key is already current (a promotion whose bookkeeping was lost): roll forward.
    return { current: rotation.current, next: rotation.next, reused: true };
  }
  const { current, currentKey } = await readCurrent(deps, secretId, currentInfo.versionId);

  // The listing may lag a PutSecretValue this rotation made before it crashed: ask for its own
  // version by id too, or a stored key would be taken for an orphan and revoked while AWSPENDING.
  const pendingInfo =
    versions.find((v) => v.stages.includes(STAGE.next) && v.versionId !== currentInfo.versionId) ??
    (await ownPendingVersion(deps, secretId, versionTokenFor(rotationId)));
  // Read once: nothing below writes the versions record before this step's own write.
  const recorded = await deps.store.getVersions(secretId);
  if (!pendingInfo) await askPersonForKey(deps, input, rotation, currentKey, settings.exchangeAccount);
  const next = pendingInfo
    ? await reusePending(deps, secretId, settings.exchangeAccount, pendingInfo.versionId)
    : await createAndStore(deps, {
        secretId,
        rotationId,
        account: settings.exchangeAccount,
        current,
        currentKey,
        recordedPrevious: recorded?.previous,
        recordedNext: rotation.next,
        schedule: settings.schedule,
      });
  const reused = pendingInfo !== undefined;

  const at = deps.clock.now().toISOString();
  await deps.store.putVersions({ ...recorded, secretId, current, next, updatedAt: at });
  await deps.store.putRotation(
    { ...rotation, phase: "next-created", current, next, updatedAt: at },
    writerOf(input),
  );
  await deps.audit.append({
    secretId,
    actor: `rotation:${rotationId}`,
    action: "next-created",
    details: {
      rotationId,
      reused,
      nextVersionId: next.versionId,
      nextFingerprint: next.fingerprint,
      nextKeyId: next.exchangeKeyId,
      currentFingerprint: current.fingerprint,
    },
  });
  return { current, next, reused };
}

type CreateNextDeps = LockedRevocationDeps;

/**
 * Only a person can make keys on a manual account: with no key provided yet (no AWSPENDING) the
 * request is recorded on the rotation — exactly the replaced key's scope and binding as the
 * exchange describes it (the key signs that call itself), plus keyshift's egress — and
 * `ManualKeyNeededError` sends the workflow to wait on a task (`AwaitManualKey`, core/manual).
 * The provided key comes back here as the pending version and is verified and recorded (step 3).
 */
async function askPersonForKey(
  deps: CreateNextDeps,
  input: RotationRef,
  rotation: RotationRecord,
  currentKey: ExchangeKeySecret,
  account: string,
): Promise<void> {
  const capabilities = await deps.exchange.capabilities(account);
  if (capabilities.keyManagement !== "manual") return;
  const request = await manualKeyRequest(deps, input.rotationId, account, currentKey);
  await deps.store.putRotation(
    { ...rotation, manualRequest: request, updatedAt: deps.clock.now().toISOString() },
    writerOf(input),
  );
  throw new ManualKeyNeededError(
    `${input.secretId}: keys of ${capabilities.exchange} account ${account} are made by a person; waiting on a task (\`keyshift tasks list\`)`,
  );
}

/** Step 2: what a re-run finds already done — a promotion, or one under way — and must not redo. */
function alreadyRecorded(rotation: RotationRecord): CreateNextOutput | undefined {
  if (rotation.previous && rotation.current && rotation.next) {
    // Promotion moved the record's `current` on to the new key; the key current at creation is
    // `previous`. Only a promotion counts: a recorded `next` that was never promoted may have been
    // revoked by an abort since, so it is looked up again below, never trusted.
    return { current: rotation.previous, next: rotation.next, reused: true };
  }
  if (rotation.phase === "promoting" && rotation.current && rotation.next) {
    // PromoteCurrent began moving labels: from here the rotation only rolls forward (a resume lands
    // here and lets PromoteCurrent finish); making or reusing a key now could make a third one.
    return { current: rotation.current, next: rotation.next, reused: true };
  }
  return undefined;
}

/** The AWSCURRENT version's ref and key (its value is read, parsed, and fingerprinted here only). */
async function readCurrent(
  deps: Pick<Deps, "secrets">,
  secretId: string,
  versionId: string,
): Promise<{ current: VersionRef; currentKey: ExchangeKeySecret }> {
  const raw = await deps.secrets.getValue(secretId, { versionId });
  const currentKey = parseKeySecret(secretId, versionId, raw.value);
  return {
    current: { versionId, fingerprint: fingerprint(raw.value), exchangeKeyId: currentKey.keyId },
    currentKey,
  };
}

/** Step 3: an AWSPENDING version exists; its key must still authenticate, and is reused — never a third key. */
async function reusePending(
  deps: Pick<Deps, "secrets" | "exchange">,
  secretId: string,
  account: string,
  versionId: string,
): Promise<VersionRef> {
  const raw = await deps.secrets.getValue(secretId, { versionId });
  const key = parseKeySecret(secretId, versionId, raw.value);
  await verifyOrThrow(deps, account, key, secretId);
  return {
    versionId,
    fingerprint: fingerprint(raw.value),
    exchangeKeyId: key.keyId,
    permissions: key.permissions,
    // CreateNext stored the key's binding in its value (absent: unbound), as it records it.
    ipAllowlist: key.ipAllowlist ?? [],
  };
}

/** This rotation's own version (its id is the rotation's token), if it exists and carries AWSPENDING. */
async function ownPendingVersion(
  deps: Pick<Deps, "secrets">,
  secretId: string,
  token: string,
): Promise<{ versionId: string; stages: string[] } | undefined> {
  try {
    const own = await deps.secrets.getValue(secretId, { versionId: token, stage: STAGE.next });
    return { versionId: own.versionId, stages: [STAGE.next] };
  } catch (err) {
    // No such version, or it exists without AWSPENDING (GetSecretValue's documented answers).
    const name = err instanceof Error ? err.name : "";
    if (name === "ResourceNotFoundException" || name === "InvalidRequestException") return undefined;
    throw err;
  }
}
