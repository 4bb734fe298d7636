import { type Deps, requireSettings } from "../deps";
import { InvalidInputError, OperatorActionRejectedError } from "../errors";
import { type LedgerEntry, type RotationRecord, STAGE, type VersionRef } from "../model";
import { revokeThroughLedger } from "../revocation/through-ledger";
import { ledgerEntryId } from "../tokens";
import { type Claim, type OperatorDeps, takenOver, underOperatorHold } from "./claim";

/**
 * Operator commands on a stalled rotation. Each takes the lock's operator hold, claims the rotation
 * record and records its intent on the lock before its first effect (`operator/claim.ts`: so two
 * commands, or a command and a resume, never interleave their writes, whatever the pauses), and
 * tolerates "already done", so re-running one that died half-way finishes it.
 */
export interface OperatorInput {
  secretId: string;
  actor: string;
  reason: string;
  /**
   * Unique per invocation of the command: the operator hold's owner. Drawn at random when absent
   * (a replayable simulation passes its own).
   */
  operation?: string;
}

/**
 * Break-glass: revoke the previous key now, lagging consumers or not, and finish the rotation.
 * 1. Hold, claim and intent on the lock (`underOperatorHold`); a rollback's intent refuses it.
 * 2. Record the intent `forceRevoke: {operation, actor, reason, keyId}` on the rotation (fenced)
 *    BEFORE the audit of the request, the break-glass on the ledger entry and the exchange call.
 *    A re-run finds the intent and finishes it: rollback and resume refuse while it is there.
 * 3. Revoke that key through the ledger (still never while it is current or pending).
 * 4. Audit `rotation-force-revoked`, THEN record `force-revoked` (fenced) and release the lock: a
 *    crash between the two leaves the intent for the re-run, never a finished rotation without
 *    its audit entry (break 13). A failed call stays in the ledger for the sweeper.
 */
export async function forceRevoke(input: OperatorInput, deps: OperatorDeps) {
  const settings = await requireSettings(deps.store, input.secretId);
  return underOperatorHold(input, "force-revoke", deps, async (claim) => {
    const { rotation, operation } = claim;
    const at = deps.clock.now().toISOString();
    const intent = rotation.forceRevoke ?? {
      operation,
      actor: input.actor,
      reason: input.reason,
      keyId: rotation.previous.exchangeKeyId,
      versionId: rotation.previous.versionId,
      requestedAt: at,
    };
    if (!rotation.forceRevoke) await claim.write({ ...rotation, forceRevoke: intent, updatedAt: at });
    await deps.audit.append({
      secretId: input.secretId,
      actor: input.actor,
      action: "force-revoke-requested",
      details: { rotationId: rotation.rotationId, keyId: intent.keyId, reason: intent.reason, operation },
    });
    await claim.stillMine();
    const attempt = await revokeThroughLedger(
      {
        secretId: input.secretId,
        exchangeAccount: settings.exchangeAccount,
        keyId: intent.keyId,
        versionId: intent.versionId,
        rotationId: rotation.rotationId,
        kind: "previous",
      },
      input.actor,
      deps,
      {
        breakGlass: { actor: intent.actor, reason: intent.reason, at: intent.requestedAt },
        known: { settings, rotation },
      },
    );
    if (attempt.held) {
      return claim.refuse(
        new OperatorActionRejectedError(`force-revoke of ${intent.keyId} refused: ${attempt.held.reason}`),
        "forceRevoke",
      );
    }
    await deps.audit.append({
      secretId: input.secretId,
      actor: input.actor,
      action: "rotation-force-revoked",
      details: { rotationId: rotation.rotationId, keyId: intent.keyId, ledger: attempt.entry.status },
    });
    const { forceRevoke: _done, ...rest } = rotation;
    const now = deps.clock.now().toISOString();
    await claim.write({ ...rest, phase: "force-revoked", outcome: "force-revoked", updatedAt: now });
    await deps.lock.release(input.secretId, rotation.rotationId);
    return {
      rotationId: rotation.rotationId,
      keyId: intent.keyId,
      ledger: attempt.entry.status,
      error: attempt.error,
    };
  });
}

/**
 * Move AWSCURRENT back to the previous version while its key is still valid. The abandoned key
 * becomes the previous one, so `resume` waits for consumers to move back and revokes it through
 * the same gate.
 * 1. Hold, claim and intent on the lock (`underOperatorHold`); a force-revoke's intent refuses it.
 *    A rollback already done is not done twice (a re-run would flip it back).
 * 2. First run: the previous key must be active on the exchange and absent from the ledger; record
 *    the intent (from/to) on the rotation (fenced) BEFORE any other write. A re-run finds the
 *    intent and finishes it: resume and force-revoke refuse while it is there.
 * 3. Label move, only from the intent's `from` to its `to` (conditional on `from` holding it), and
 *    only after re-checking that the target key is still active and not in the ledger; versions
 *    record only while it still names `from` current; audit; rotation record (fenced); the lock's
 *    intent is cleared last.
 */
export async function rollback(input: OperatorInput, deps: OperatorDeps) {
  const settings = await requireSettings(deps.store, input.secretId);
  return underOperatorHold(input, "rollback", deps, async (claim) => {
    const { rotation } = claim;
    if (rotation.phase === "rolled-back") {
      return claim.refuse(
        new OperatorActionRejectedError(
          `rotation ${rotation.rotationId} of ${input.secretId} is already rolled back (current ${rotation.current.versionId}); ` +
            "`keyshift resume` revokes the abandoned key once consumers are back",
        ),
      );
    }
    const targetAlive = (to: VersionRef) =>
      rollbackTargetAlive(deps, settings.exchangeAccount, input.secretId, to);
    const intent = rotation.rollback ?? (await recordRollbackIntent(input, claim, deps, targetAlive));
    await moveCurrentBack(input.secretId, intent, claim, deps, targetAlive);
    return recordRolledBack(input, claim, intent, deps);
  });
}

type RollbackIntent = NonNullable<RotationRecord["rollback"]>;

/** The rollback's target is still alive: active on the exchange and in no ledger entry. Else the refusal. */
async function rollbackTargetAlive(
  deps: Pick<OperatorDeps, "ledger" | "exchange">,
  account: string,
  secretId: string,
  to: VersionRef,
): Promise<Error | undefined> {
  const entry = await deps.ledger.get(ledgerEntryId(account, to.exchangeKeyId));
  if (entry) return rollbackRefused(secretId, to, entry);
  // A manual account has no key listing: a key keyshift never asked a person to delete (no
  // ledger entry) is still alive; asking the exchange would refuse every rollback there.
  if ((await deps.exchange.capabilities(account)).keyManagement === "manual") return undefined;
  const listing = await deps.exchange.listKeys(account);
  const active = listing.keys.some((k) => k.keyId === to.exchangeKeyId && k.status === "active");
  return entry || !active ? rollbackRefused(secretId, to, entry) : undefined;
}

/** Step 2, first run: the target checked, then the intent (from/to) recorded (fenced) and audited before any other write. */
async function recordRollbackIntent(
  input: OperatorInput,
  claim: Claim,
  deps: OperatorDeps,
  targetAlive: (to: VersionRef) => Promise<Error | undefined>,
): Promise<RollbackIntent> {
  const { rotation } = claim;
  const refused = await targetAlive(rotation.previous);
  if (refused) return claim.refuse(refused);
  const intent: RollbackIntent = {
    from: rotation.current,
    to: rotation.previous,
    requestedAt: deps.clock.now().toISOString(),
    actor: input.actor,
    reason: input.reason,
  };
  await claim.write({ ...rotation, rollback: intent, updatedAt: intent.requestedAt });
  await deps.audit.append({
    secretId: input.secretId,
    actor: input.actor,
    action: "rollback-requested",
    details: { rotationId: rotation.rotationId, toVersionId: intent.to.versionId, reason: input.reason },
  });
  return intent;
}

/**
 * Step 3, after the label moved: the versions record (only while it still names `from` current),
 * the audit entry, the rotation record (fenced), and the lock's intent cleared last.
 */
async function recordRolledBack(
  input: OperatorInput,
  claim: Claim,
  intent: RollbackIntent,
  deps: OperatorDeps,
) {
  const { rotation } = claim;
  const now = deps.clock.now().toISOString();
  const recorded = await deps.store.getVersions(input.secretId);
  if (recorded?.current?.versionId !== intent.to.versionId) {
    await takenOver(
      () =>
        deps.store.putVersionsIfCurrent(
          {
            secretId: input.secretId,
            current: intent.to,
            previous: intent.from,
            promotedAt: now,
            updatedAt: now,
          },
          intent.from.versionId,
        ),
      claim.operation,
    );
  }
  // Audit first, then the record (break 13): a crash between them leaves the intent for the
  // re-run, which audits again — at least once, never lost.
  await deps.audit.append({
    secretId: input.secretId,
    actor: input.actor,
    action: "rotation-rolled-back",
    details: {
      rotationId: rotation.rotationId,
      currentVersionId: intent.to.versionId,
      abandonedKeyId: intent.from.exchangeKeyId,
      reason: intent.reason,
    },
  });
  const { rollback: _done, ...rest } = rotation;
  await claim.write({
    ...rest,
    phase: "rolled-back",
    current: intent.to,
    previous: intent.from,
    deadlineAt: undefined,
    updatedAt: now,
  });
  await deps.lock.clearIntent(input.secretId, rotation.rotationId, claim.operation);
  return {
    rotationId: rotation.rotationId,
    currentVersionId: intent.to.versionId,
    abandonedKeyId: intent.from.exchangeKeyId,
  };
}

/**
 * AWSCURRENT from `intent.from` to `intent.to`, and nothing else: the label is read first, then the
 * target re-checked (active, not in the ledger) and the claim confirmed, then moved conditionally
 * on `from` still holding it — so a label that moved on meanwhile is never dragged back.
 */
async function moveCurrentBack(
  secretId: string,
  intent: RollbackIntent,
  claim: Claim,
  deps: OperatorDeps,
  targetAlive: (to: VersionRef) => Promise<Error | undefined>,
): Promise<void> {
  const versions = await deps.secrets.listVersions(secretId);
  const holder = versions.find((v) => v.stages.includes(STAGE.current))?.versionId;
  if (holder === intent.to.versionId) return;
  if (holder !== intent.from.versionId) {
    throw new OperatorActionRejectedError(
      `AWSCURRENT of ${secretId} is on ${holder ?? "no version"}, neither the rollback's from (${intent.from.versionId}) ` +
        `nor its target (${intent.to.versionId}): nothing moved; see \`keyshift status ${secretId}\``,
    );
  }
  const refused = await targetAlive(intent.to);
  if (refused) return claim.refuse(refused, "rollback");
  await claim.stillMine();
  await deps.secrets.moveStage(secretId, STAGE.current, { to: intent.to.versionId, from: holder });
}

function rollbackRefused(secretId: string, target: VersionRef, entry: LedgerEntry | undefined) {
  return new OperatorActionRejectedError(
    `cannot roll back ${secretId}: previous key ${target.exchangeKeyId} is ` +
      `${entry ? `in the revocation ledger (${entry.status})` : "no longer active on the exchange"}`,
  );
}

/**
 * Put a ledger entry back in the sweeper's queue now (after an operator fixed the cause). Audited
 * first. It takes no lock: it changes only when the sweeper looks; whether the key may be revoked
 * is decided by the revocation guard at the call, as for every revocation.
 */
export async function requeueRevocation(
  input: { entryId: string; actor: string },
  deps: Pick<Deps, "ledger" | "audit" | "clock">,
): Promise<LedgerEntry> {
  const entry = await deps.ledger.get(input.entryId);
  if (!entry)
    throw new InvalidInputError(`no ledger entry ${input.entryId}: see \`keyshift revocations list\``);
  if (entry.status === "revoked") {
    throw new OperatorActionRejectedError(
      `ledger entry ${input.entryId} is already revoked: nothing to retry`,
    );
  }
  await deps.audit.append({
    secretId: entry.secretId,
    actor: input.actor,
    action: "revocation-requeued",
    details: { entryId: entry.entryId, keyId: entry.keyId, attempts: entry.attempts },
  });
  return deps.ledger.requeue(input.entryId, deps.clock.now());
}
