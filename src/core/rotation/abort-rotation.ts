import { parseKeySecret, type RotationRef, requireSettings, writerOf } from "../deps";
import { type RotationRecord, STAGE } from "../model";
import { type LockedRevocationDeps, revokeThroughLedger } from "../revocation/through-ledger";
import { exchangeLabelFor, versionTokenFor } from "../tokens";
import { drivingExecution } from "./lock";
import { markStalled } from "./mark-stalled";
import { promoteCurrent } from "./promote-current";
import { giveRecordBack } from "./rotation-claim";

export interface AbortRotationInput extends RotationRef {
  /** The error that made the workflow abort (name and sanitized message only). */
  error: string;
}

export interface AbortRotationOutput {
  /**
   * `aborted`: undone before promotion. `promoted`: promotion had happened after all, the workflow
   * must wait instead. `stalled`: a resume failed before it could run; the rotation is stalled
   * again. `nothing`: this execution drives no lock (another rotation holds it); nothing changed.
   */
  outcome: "aborted" | "promoted" | "stalled" | "nothing";
  /** Kept for the state machine's older Choice: false unless the rotation was undone. */
  aborted: boolean;
  revokedKeyIds: string[];
  pendingRevocations: string[];
}

type AbortDeps = LockedRevocationDeps;

const NOTHING_REVOKED = { revokedKeyIds: [], pendingRevocations: [] };

/**
 * Failure before promotion: undo cleanly.
 *
 * Input: secret id, rotation id (or the execution's own name when BeginRotation failed), execution,
 * the error. Output: what happened (see `outcome`) and what was revoked.
 * 1. The lock is driven by another execution: touch nothing, except a record this execution claimed
 *    for a takeover that never got the lock, which goes back to the lock's driver. Driven by this execution for another
 *    rotation (a resume whose BeginRotation failed): stall it again, with an alert.
 * 2. PromoteCurrent began (phase `promoting`, written before its first label move), the record
 *    says it promoted, or AWSCURRENT already sits on our next version: do NOT abort (that key may
 *    be live); roll forward — finish the promotion — so the workflow waits on the new current.
 * 3. Remove AWSPENDING from our version (never from another rotation's).
 * 4. Revoke every key this rotation created (the stored one and crashed-attempt orphans) through
 *    the ledger; a revocation that fails stays in the ledger for the sweeper, the abort completes.
 * 5. Record `aborted`, release the lock, audit and alert.
 */
export async function abortRotation(
  input: AbortRotationInput,
  deps: AbortDeps,
): Promise<AbortRotationOutput> {
  const { secretId, rotationId } = input;
  const execution = input.execution ?? rotationId;
  const settings = await requireSettings(deps.store, secretId);
  const held = await deps.lock.get(secretId);
  // A free lock: this execution never took it (BeginRotation failed first), so it made nothing;
  // every way a rotation that took it ends leaves it held or stalled until its phase is final.
  if (!held || drivingExecution(held) !== execution) {
    // A takeover (escalation, resume) whose BeginRotation died between claiming the record and
    // taking the lock: the record goes back to whoever drives the lock, or that execution is
    // fenced out of its own rotation (a no-op when this execution claimed nothing).
    if (held) await giveRecordBack(deps, { secretId, rotationId: held.rotationId, from: execution });
    return { outcome: "nothing", aborted: false, ...NOTHING_REVOKED };
  }
  if (held.rotationId !== rotationId) {
    await markStalled(
      { secretId, rotationId: held.rotationId, execution, lagging: [], laggingCount: 0, error: input.error },
      deps,
    );
    return { outcome: "stalled", aborted: false, ...NOTHING_REVOKED };
  }
  const rotation = await deps.store.getRotation(secretId, rotationId);
  const now = deps.clock.now();
  const versions = await deps.secrets.listVersions(secretId);
  const currentHolder = versions.find((v) => v.stages.includes(STAGE.current));

  if (
    rotation?.next &&
    (rotation.previous ||
      rotation.phase === "promoting" ||
      currentHolder?.versionId === rotation.next.versionId)
  ) {
    await promoteCurrent(input, deps);
    return { outcome: "promoted", aborted: false, ...NOTHING_REVOKED };
  }

  await removeOwnPending(deps, input, rotation, currentHolder?.versionId);
  // Before revoking: the revocation guard refuses the key the versions record calls next.
  const recorded = await deps.store.getVersions(secretId);
  if (recorded?.next) {
    await deps.store.putVersions({ ...recorded, next: undefined, updatedAt: now.toISOString() });
  }
  const revoked = await revokeOwnKeys(deps, input, rotation, settings.exchangeAccount);
  return recordAborted(deps, input, rotation, revoked, now);
}

/**
 * Step 3. Only our own AWSPENDING: the version this rotation recorded, or the one its token created
 * (a crash between PutSecretValue and the bookkeeping); another rotation's pending is not ours. The
 * label is removed by a conditional write on each candidate, not by what a listing shows: a
 * lagging read must never leave AWSPENDING on a key that is about to be revoked.
 */
async function removeOwnPending(
  deps: AbortDeps,
  { secretId, rotationId }: RotationRef,
  rotation: RotationRecord | undefined,
  currentVersionId: string | undefined,
): Promise<void> {
  const candidates = new Set([rotation?.next?.versionId, versionTokenFor(rotationId)]);
  for (const candidate of candidates) {
    if (!candidate || candidate === currentVersionId) continue;
    await deps.secrets.moveStage(secretId, STAGE.next, { from: candidate }).catch(ignoreNotAttached);
  }
}

type Revoked = Pick<AbortRotationOutput, "revokedKeyIds" | "pendingRevocations">;

/**
 * Step 4: every key this rotation created — the stored one and keys carrying its label (crashed
 * attempts) — but never the current one, through the ledger (I5). One that fails stays there.
 */
async function revokeOwnKeys(
  deps: AbortDeps,
  { secretId, rotationId }: RotationRef,
  rotation: RotationRecord | undefined,
  account: string,
): Promise<Revoked> {
  const label = exchangeLabelFor(rotationId);
  // A manual account has no key listing (only a person sees its keys): what this rotation recorded.
  const manual = (await deps.exchange.capabilities(account)).keyManagement === "manual";
  const listing = manual ? { keys: [] } : await deps.exchange.listKeys(account);
  const ours = new Set(listing.keys.filter((k) => k.label === label).map((k) => k.keyId));
  const versionOf = new Map<string, string>();
  if (rotation?.next) versionOf.set(rotation.next.exchangeKeyId, rotation.next.versionId);
  // A person's key is stored under this rotation's token before CreateNext records it as next: an
  // abort in between (its verification's answer lost) must still hand it to a person (sim seed 33).
  const provided = manual && !rotation?.next ? await providedKey(deps, secretId, rotationId) : undefined;
  if (provided) versionOf.set(provided, versionTokenFor(rotationId));
  for (const keyId of versionOf.keys()) ours.add(keyId);
  const current = rotation?.current?.exchangeKeyId;
  if (current) ours.delete(current);

  const revokedKeyIds: string[] = [];
  const pendingRevocations: string[] = [];
  for (const keyId of ours) {
    const attempt = await revokeThroughLedger(
      {
        secretId,
        exchangeAccount: account,
        keyId,
        versionId: versionOf.get(keyId) ?? "unstored",
        rotationId,
        kind: "unpromoted",
      },
      `rotation:${rotationId}`,
      deps,
    );
    (attempt.entry.status === "revoked" ? revokedKeyIds : pendingRevocations).push(keyId);
  }
  return { revokedKeyIds, pendingRevocations };
}

/** Step 5: `aborted` (fenced), the lock released, then audited and alerted. */
async function recordAborted(
  deps: AbortDeps,
  input: AbortRotationInput,
  rotation: RotationRecord | undefined,
  revoked: Revoked,
  now: Date,
): Promise<AbortRotationOutput> {
  const { secretId, rotationId } = input;
  if (rotation) {
    await deps.store.putRotation(
      {
        ...rotation,
        phase: "aborted",
        outcome: input.error,
        updatedAt: now.toISOString(),
      },
      writerOf(input),
    );
  }
  await deps.lock.release(secretId, rotationId);
  await deps.audit.append({
    secretId,
    actor: `rotation:${rotationId}`,
    action: "rotation-aborted",
    details: { rotationId, error: input.error, ...revoked },
  });
  await deps.alerts.send({
    kind: "rotation-aborted",
    secretId,
    subject: `keyshift: rotation of ${secretId} aborted before promotion`,
    details: { rotationId, error: input.error, ...revoked },
  });
  return { outcome: "aborted", aborted: true, ...revoked };
}

/** UpdateSecretVersionStage refuses to remove a label from a version that does not carry it (or does not exist). */
/** The key of the version stored under this rotation's token (a manual account's provided key), if any. */
async function providedKey(
  deps: AbortDeps,
  secretId: string,
  rotationId: string,
): Promise<string | undefined> {
  const versionId = versionTokenFor(rotationId);
  try {
    const { value } = await deps.secrets.getValue(secretId, { versionId });
    return parseKeySecret(secretId, versionId, value).keyId;
  } catch (err) {
    const name = err instanceof Error ? err.name : "";
    if (name === "ResourceNotFoundException") return undefined;
    throw err;
  }
}

function ignoreNotAttached(err: unknown): void {
  const name = err instanceof Error ? err.name : "";
  if (name !== "InvalidParameterException" && name !== "ResourceNotFoundException") throw err;
}
