import { type Deps, parseKeySecret, type RotationRef, requireSettings, writerOf } from "../deps";
import {
  ExchangeKeyLimitError,
  ExchangeRetryableError,
  KeyVerificationFailedError,
  RotationStateError,
  sanitizeErrorMessage,
} from "../errors";
import { fingerprint } from "../fingerprint";
import { STAGE, type VersionRef } from "../model";
import { type LockedRevocationDeps, revokeThroughLedger } from "../revocation/through-ledger";
import { scheduleIntervalSeconds } from "../schedule";
import { exchangeLabelFor, versionTokenFor } from "../tokens";
import { ledgerStatus, refuseWhileOwnKeysActive, refuseWhileRestored } from "./create-next-refusals";
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
 *    store it with PutSecretValue + AWSPENDING and a token derived from the rotation.
 */
export async function createNext(input: RotationRef, deps: CreateNextDeps): Promise<CreateNextOutput> {
  const { secretId, rotationId } = input;
  const settings = await requireSettings(deps.store, secretId);
  await holdLock(deps, input, settings);

  const rotation = await deps.store.getRotation(secretId, rotationId);
  if (!rotation) throw new RotationStateError(`rotation ${rotationId} of ${secretId} was never begun`);
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

  const versions = await deps.secrets.listVersions(secretId);
  const currentInfo = versions.find((v) => v.stages.includes(STAGE.current));
  if (!currentInfo) throw new RotationStateError(`secret ${secretId} has no ${STAGE.current} version`);
  if (rotation.current && rotation.next && currentInfo.versionId === rotation.next.versionId) {
    // Our key is already current (a promotion whose bookkeeping was lost): roll forward.
    return { current: rotation.current, next: rotation.next, reused: true };
  }
  const currentRaw = await deps.secrets.getValue(secretId, { versionId: currentInfo.versionId });
  const currentKey = parseKeySecret(secretId, currentInfo.versionId, currentRaw.value);
  const current: VersionRef = {
    versionId: currentInfo.versionId,
    fingerprint: fingerprint(currentRaw.value),
    exchangeKeyId: currentKey.keyId,
  };

  // The listing may lag a PutSecretValue this rotation made before it crashed: ask for its own
  // version by id too, or a stored key would be taken for an orphan and revoked while AWSPENDING.
  const pendingInfo =
    versions.find((v) => v.stages.includes(STAGE.next) && v.versionId !== currentInfo.versionId) ??
    (await ownPendingVersion(deps, secretId, versionTokenFor(rotationId)));
  // Read once: nothing below writes the versions record before this step's own write.
  const recorded = await deps.store.getVersions(secretId);
  let next: VersionRef;
  let reused = false;
  if (pendingInfo) {
    const pendingRaw = await deps.secrets.getValue(secretId, { versionId: pendingInfo.versionId });
    const pendingKey = parseKeySecret(secretId, pendingInfo.versionId, pendingRaw.value);
    await verifyOrThrow(deps, settings.exchangeAccount, pendingKey.keyId, pendingKey.secret, secretId);
    next = {
      versionId: pendingInfo.versionId,
      fingerprint: fingerprint(pendingRaw.value),
      exchangeKeyId: pendingKey.keyId,
      permissions: pendingKey.permissions,
    };
    reused = true;
  } else {
    next = await createAndStore(deps, {
      secretId,
      rotationId,
      account: settings.exchangeAccount,
      current,
      currentKey,
      recordedPrevious: recorded?.previous,
      recordedNext: rotation.next,
      schedule: settings.schedule,
    });
  }

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

async function createAndStore(
  deps: CreateNextDeps,
  ctx: {
    secretId: string;
    rotationId: string;
    account: string;
    current: VersionRef;
    currentKey: { keyId: string; permissions: string[]; ipAllowlist?: string[] };
    recordedPrevious: VersionRef | undefined;
    /** The key this rotation stored before, if any: revoked only if no label or record says it is live. */
    recordedNext: VersionRef | undefined;
    /** The secret's rotation schedule, to warn when the exchange expires the new key before it comes round. */
    schedule: string | undefined;
  },
): Promise<VersionRef> {
  const { secretId, rotationId, account } = ctx;
  const label = exchangeLabelFor(rotationId);
  const listing = await deps.exchange.listKeys(account);

  // A key carrying this rotation's label but not pending was made by a crashed attempt: its secret
  // is gone for good, so it can only be revoked — through the ledger like every revocation (I5).
  const unrevoked: string[] = [];
  const earlier = ctx.recordedNext;
  for (const orphan of listing.keys.filter((k) => k.label === label && k.status === "active")) {
    const attempt = await revokeThroughLedger(
      {
        secretId,
        exchangeAccount: account,
        keyId: orphan.keyId,
        // The key this rotation stored (its AWSPENDING since removed) is judged by its version's
        // labels and by the versions record, so a key that became current is never revoked.
        versionId: earlier?.exchangeKeyId === orphan.keyId ? earlier.versionId : "unstored",
        rotationId,
        kind: "unpromoted",
      },
      `rotation:${rotationId}`,
      deps,
    );
    await deps.audit.append({
      secretId,
      actor: `rotation:${rotationId}`,
      action: "orphan-key-found",
      details: { rotationId, keyId: orphan.keyId, ledger: attempt.entry.status },
    });
    if (attempt.entry.status !== "revoked") unrevoked.push(orphan.keyId);
  }
  if (unrevoked.length > 0) {
    // Until the crashed attempt's key is gone a new one would be a third key for this secret (I3):
    // retried by the state, then the abort revokes it through the ledger.
    throw new ExchangeRetryableError(
      `not creating a key for ${secretId}: key ${unrevoked.join(", ")} from a crashed attempt of rotation ${rotationId} is not revoked yet (ledger)`,
    );
  }
  await refuseWhileRestored(deps, secretId, account, ctx.recordedPrevious);
  const isActive = (keyId: string) => listing.keys.some((k) => k.keyId === keyId && k.status === "active");
  const previous = ctx.recordedPrevious;
  if (previous && previous.exchangeKeyId !== ctx.current.exchangeKeyId && isActive(previous.exchangeKeyId)) {
    // Current + previous + a new one would be a third key for one secret (I3), whatever the account limit.
    throw new ExchangeKeyLimitError(
      `secret ${secretId} still holds its previous key ${previous.exchangeKeyId} ` +
        `(${await ledgerStatus(deps, account, previous.exchangeKeyId)}); a new key would be its third. ` +
        "Revoke it first (`keyshift revocations retry` or `keyshift force-revoke`), then rotate again.",
    );
  }
  await refuseWhileOwnKeysActive(
    deps,
    { secretId, account, label, current: ctx.current.exchangeKeyId },
    listing.keys,
  );
  // Where disabled keys count against the limit (Deribit), a disabled key awaiting removal takes a slot.
  const caps = await deps.exchange.capabilities(account);
  const counted = listing.keys.filter(
    (k) => (caps.limitCounts === "all" || k.status === "active") && k.label !== label,
  );
  if (counted.length >= listing.maxActiveKeys) {
    const others = counted.filter((k) => k.keyId !== ctx.current.exchangeKeyId);
    const described = await Promise.all(
      others.map(
        async (k) =>
          `${k.keyId} (${k.status === "disabled" ? "disabled, " : ""}${await ledgerStatus(deps, account, k.keyId)})`,
      ),
    );
    throw new ExchangeKeyLimitError(
      `exchange account ${account} already holds ${counted.length} of ${listing.maxActiveKeys} ` +
        `${caps.limitCounts === "all" ? `keys (disabled keys count on ${caps.exchange})` : "active keys"}; ` +
        `unrevoked: ${described.join(", ") || "none besides current"}. ` +
        "Revoke it first (`keyshift revocations retry` or `keyshift force-revoke`), then rotate again.",
    );
  }

  // The new key gets exactly the scope and IP allow-list the exchange reports for the key it
  // replaces — never broader; the secret's own record is the fallback when the listing lacks it.
  const listedCurrent = listing.keys.find((k) => k.keyId === ctx.current.exchangeKeyId);
  const permissions = listedCurrent?.permissions ?? ctx.currentKey.permissions;
  const ipAllowlist = (listedCurrent ? listedCurrent.ipAllowlist : ctx.currentKey.ipAllowlist) ?? [];
  const created = await deps.exchange.createKey(account, {
    label,
    permissions,
    ...(ipAllowlist.length > 0 ? { ipAllowlist } : {}),
  });
  await verifyOrThrow(deps, account, created.keyId, created.secret, secretId);
  await warnIfExpiresFirst(deps, secretId, created, ctx.schedule);

  const value = JSON.stringify({
    account,
    keyId: created.keyId,
    secret: created.secret,
    permissions,
    ...(ipAllowlist.length > 0 ? { ipAllowlist } : {}),
  });
  // If this write fails the key is an orphan with our label: the retry (step 4) or the abort removes it.
  const stored = await deps.secrets.putPending(secretId, versionTokenFor(rotationId), value);
  return {
    versionId: stored.versionId,
    fingerprint: fingerprint(value),
    exchangeKeyId: created.keyId,
    permissions,
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

async function verifyOrThrow(
  deps: Pick<Deps, "exchange">,
  account: string,
  keyId: string,
  secret: string,
  secretId: string,
): Promise<void> {
  try {
    await deps.exchange.verifyKey(account, { keyId, secret });
  } catch (err) {
    throw new KeyVerificationFailedError(
      `new key ${keyId} for ${secretId} does not authenticate on ${account}: ${sanitizeErrorMessage(err)}`,
      { cause: err },
    );
  }
}

/**
 * Bybit expires keys without an IP binding after 90 days: when the new key would expire before the
 * next scheduled rotation replaces it, say so now (the hygiene audit repeats it weekly).
 */
async function warnIfExpiresFirst(
  deps: Pick<Deps, "alerts" | "clock">,
  secretId: string,
  key: { keyId: string; expiresAt?: string },
  schedule: string | undefined,
): Promise<void> {
  const interval = schedule ? scheduleIntervalSeconds(schedule) : undefined;
  if (!key.expiresAt || interval === undefined) return;
  const nextRotation = deps.clock.now().getTime() + interval * 1000;
  if (Date.parse(key.expiresAt) >= nextRotation) return;
  await deps.alerts.send({
    kind: "key-expiring",
    secretId,
    subject: `keyshift: the new key of ${secretId} expires before its next scheduled rotation`,
    details: {
      keyId: key.keyId,
      expiresAt: key.expiresAt,
      schedule: schedule ?? "",
      action:
        "bind the key to IP addresses on the exchange (no expiry), or rotate more often than the exchange expires keys",
    },
  });
}
