import { createHash } from "node:crypto";
import { InvalidInputError, OperatorActionRejectedError, RotationInProgressError } from "../errors";
import { releaseIfFinished } from "../lock";
import type { LedgerEntry } from "../model";
import type { Deps } from "./deps";

/** The restore's hold on the lock: long enough for two exchange calls, short if it dies. */
const RESTORE_LEASE_SECONDS = 120;

export interface RestoreInput {
  entryId: string;
  actor: string;
  reason: string;
}

/**
 * `keyshift revocations restore <entry> --reason …`: the undo of a two-stage revocation within
 * its grace — the disabled key authenticates again, for a consumer nobody had registered.
 *
 * Input: ledger entry id, actor, reason. Output: the entry, `restored`.
 * 1. The entry must be `disabled` (or `restored`: a re-run finishes an enable that died) and its
 *    key must be the secret's recorded previous key: CreateNext refuses to make a key while that
 *    one is active, so a restore can never lead to a third active key (I3). An older key is refused.
 * 2. Take the secret's lock (free only) for two minutes under a marker record that is already
 *    final: no rotation runs meanwhile, and a restore that dies leaves a lock the next rotation or
 *    command releases once the two minutes are up.
 * 3. Audit the intent with its reason, then the ledger (off the sweep, needs an operator), then
 *    enable on the exchange and confirm by listing; audit and alert; release the lock.
 * The key is revoked again only when an operator runs `keyshift revocations retry <entry>`: the
 * gate applies again, so the consumer must have moved to the current key by then.
 */
export async function restoreRevocation(
  input: RestoreInput,
  deps: Pick<Deps, "ledger" | "exchange" | "store" | "lock" | "audit" | "alerts" | "clock">,
): Promise<LedgerEntry> {
  const entry = await deps.ledger.get(input.entryId);
  if (!entry)
    throw new InvalidInputError(`no ledger entry ${input.entryId}: see \`keyshift revocations list\``);
  if (entry.status !== "disabled" && entry.status !== "restored") {
    throw new OperatorActionRejectedError(
      `ledger entry ${input.entryId} is ${entry.status}: only a disabled key (two-stage revocation, within its grace) can be restored` +
        (entry.status === "revoked" ? "; it was removed from the exchange for good" : ""),
    );
  }
  const versions = await deps.store.getVersions(entry.secretId);
  if (versions?.previous?.exchangeKeyId !== entry.keyId) {
    throw new OperatorActionRejectedError(
      `key ${entry.keyId} is not the previous key of ${entry.secretId} (that is ${versions?.previous?.exchangeKeyId ?? "none"}): ` +
        "restoring an older key would give the secret a third active key",
    );
  }
  const now = deps.clock.now();
  const marker = `restore-${createHash("sha256").update(`${entry.entryId}@${now.toISOString()}`).digest("hex").slice(0, 16)}`;
  // Final from the start: a lock left behind by a dead restore is released by whoever finds it.
  await deps.store.putRotation({
    secretId: entry.secretId,
    rotationId: marker,
    trigger: "operator",
    phase: "completed",
    outcome: `restore of ${entry.keyId} by ${input.actor}`,
    startedAt: now.toISOString(),
    updatedAt: now.toISOString(),
  });
  await acquireFree(deps, entry.secretId, marker, input.actor);
  try {
    await deps.audit.append({
      secretId: entry.secretId,
      actor: input.actor,
      action: "key-restore-requested",
      details: { entryId: entry.entryId, keyId: entry.keyId, reason: input.reason },
    });
    const restored =
      entry.status === "restored"
        ? entry
        : await deps.ledger.markRestored(entry.entryId, {
            actor: input.actor,
            reason: input.reason,
            at: now,
          });
    if (restored.status !== "restored") {
      throw new OperatorActionRejectedError(
        `ledger entry ${entry.entryId} moved to ${restored.status} meanwhile; nothing was enabled`,
      );
    }
    await deps.exchange.enableKey(entry.exchangeAccount, entry.keyId);
    const listed = (await deps.exchange.listKeys(entry.exchangeAccount)).keys.find(
      (k) => k.keyId === entry.keyId,
    );
    if (listed?.status !== "active") {
      throw new OperatorActionRejectedError(
        `exchange accepted enabling key ${entry.keyId} but lists it ${listed ? listed.status : "nowhere"}; run the restore again`,
      );
    }
    await deps.audit.append({
      secretId: entry.secretId,
      actor: input.actor,
      action: "key-restored",
      details: { entryId: entry.entryId, keyId: entry.keyId, reason: input.reason },
    });
    await deps.alerts.send({
      kind: "key-restored",
      secretId: entry.secretId,
      subject: `keyshift: previous key ${entry.keyId} of ${entry.secretId} was enabled again by ${input.actor}`,
      details: {
        entryId: entry.entryId,
        keyId: entry.keyId,
        reason: input.reason,
        action: `register the consumer that needed it, let it move to the current key, then \`keyshift revocations retry ${entry.entryId}\``,
      },
    });
    return restored;
  } finally {
    await deps.lock.release(entry.secretId, marker);
  }
}

async function acquireFree(
  deps: Pick<Deps, "lock" | "store" | "audit" | "clock">,
  secretId: string,
  marker: string,
  actor: string,
): Promise<void> {
  const attempt = () => deps.lock.acquire(secretId, marker, deps.clock.now(), RESTORE_LEASE_SECONDS);
  try {
    await attempt();
  } catch (err) {
    if (!(err instanceof RotationInProgressError)) throw err;
    const held = await deps.lock.get(secretId);
    const holder = held && (await deps.store.getRotation(secretId, held.rotationId));
    if (held && (await releaseIfFinished(deps, held, holder, actor))) {
      await attempt();
      return;
    }
    throw new OperatorActionRejectedError(
      `cannot restore while rotation ${held?.rotationId ?? "?"} of ${secretId} holds the lock: ` +
        "wait for it to end (or roll it back), then restore",
      { cause: err },
    );
  }
}
