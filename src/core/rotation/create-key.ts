import type { Deps } from "../deps";
import { ExchangeRetryableError, KeyVerificationFailedError, sanitizeErrorMessage } from "../errors";
import { fingerprint } from "../fingerprint";
import type { VersionRef } from "../model";
import type { ExchangeKey, ExchangeKeyCredential } from "../ports";
import { type LockedRevocationDeps, revokeThroughLedger } from "../revocation/through-ledger";
import { scheduleIntervalSeconds } from "../schedule";
import { exchangeLabelFor, versionTokenFor } from "../tokens";
import {
  refuseAtAccountLimit,
  refuseUnusableBinding,
  refuseWhileOwnKeysActive,
  refuseWhilePreviousActive,
  refuseWhileRestored,
} from "./create-next-refusals";

/** What CreateNext knows when it must make a new key (steps 4–6 of `createNext`). */
export interface NewKeyContext {
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
}

/**
 * Steps 4–6 of CreateNext: revoke what a crashed attempt of this rotation left, refuse a third key
 * (I3), then create a key like the current one, verify it and store it as AWSPENDING.
 */
export async function createAndStore(
  deps: LockedRevocationDeps & Pick<Deps, "egressIps">,
  ctx: NewKeyContext,
): Promise<VersionRef> {
  const { secretId, rotationId, account } = ctx;
  const label = exchangeLabelFor(rotationId);
  const listing = await deps.exchange.listKeys(account);
  await revokeCrashedAttemptKeys(deps, ctx, label, listing.keys);
  await refuseWhileRestored(deps, secretId, account, ctx.recordedPrevious);
  const current = ctx.current.exchangeKeyId;
  await refuseWhilePreviousActive(
    deps,
    { secretId, account, current, previous: ctx.recordedPrevious },
    listing.keys,
  );
  await refuseWhileOwnKeysActive(deps, { secretId, account, label, current }, listing.keys);
  await refuseAtAccountLimit(deps, { account, label, current }, listing);
  const scope = scopeOfCurrent(ctx, listing.keys);
  refuseUnusableBinding(deps, { secretId, account, current }, scope.ipAllowlist);
  const created = await deps.exchange.createKey(account, { label, ...scope });
  await verifyOrThrow(deps, account, credentialOf(created), secretId);
  await warnIfExpiresFirst(deps, secretId, created, ctx.schedule);

  const value = JSON.stringify({ account, ...credentialOf(created), ...scope });
  // If this write fails the key is an orphan with our label: the retry (step 4) or the abort removes it.
  const stored = await deps.secrets.putPending(secretId, versionTokenFor(rotationId), value);
  return {
    versionId: stored.versionId,
    fingerprint: fingerprint(value),
    exchangeKeyId: created.keyId,
    permissions: scope.permissions,
    // Recorded even when empty: `[]` says "unbound, as the exchange listed it" (absent: not known).
    ipAllowlist: scope.ipAllowlist ?? [],
  };
}

/**
 * A key carrying this rotation's label but not pending was made by a crashed attempt: its secret
 * is gone for good, so it can only be revoked — through the ledger like every revocation (I5).
 * Until it is gone a new key would be a third one for this secret (I3): `ExchangeRetryableError`,
 * retried by the state, then the abort revokes it through the ledger.
 */
async function revokeCrashedAttemptKeys(
  deps: LockedRevocationDeps,
  ctx: NewKeyContext,
  label: string,
  keys: readonly ExchangeKey[],
): Promise<void> {
  const { secretId, rotationId, account } = ctx;
  const unrevoked: string[] = [];
  const earlier = ctx.recordedNext;
  for (const orphan of keys.filter((k) => k.label === label && k.status === "active")) {
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
    throw new ExchangeRetryableError(
      `not creating a key for ${secretId}: key ${unrevoked.join(", ")} from a crashed attempt of rotation ${rotationId} is not revoked yet (ledger)`,
    );
  }
}

/**
 * The new key gets exactly the scope and IP allow-list the exchange reports for the key it
 * replaces — never broader; the secret's own record is the fallback when the listing lacks it.
 */
function scopeOfCurrent(
  ctx: Pick<NewKeyContext, "current" | "currentKey">,
  keys: readonly ExchangeKey[],
): { permissions: string[]; ipAllowlist?: string[] } {
  const listedCurrent = keys.find((k) => k.keyId === ctx.current.exchangeKeyId);
  const permissions = listedCurrent?.permissions ?? ctx.currentKey.permissions;
  const ipAllowlist = (listedCurrent ? listedCurrent.ipAllowlist : ctx.currentKey.ipAllowlist) ?? [];
  return { permissions, ...(ipAllowlist.length > 0 ? { ipAllowlist } : {}) };
}

/** What authenticates as the key: its id, its secret and, where the exchange has one, its passphrase. */
export function credentialOf(key: ExchangeKeyCredential): ExchangeKeyCredential {
  const { keyId, secret, passphrase } = key;
  return { keyId, secret, ...(passphrase !== undefined ? { passphrase } : {}) };
}

export async function verifyOrThrow(
  deps: Pick<Deps, "exchange">,
  account: string,
  key: ExchangeKeyCredential,
  secretId: string,
): Promise<void> {
  const { keyId } = key;
  try {
    await deps.exchange.verifyKey(account, credentialOf(key));
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
