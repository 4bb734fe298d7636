import { randomUUID } from "node:crypto";
import { InvalidInputError, OperatorActionRejectedError } from "../errors";
import { holdForOperator } from "../lock";
import { type LedgerEntry, type RotationRecord, STAGE, type VersionRef } from "../model";
import { ledgerEntryId } from "../tokens";
import { type Deps, requireSettings } from "./deps";
import { type LockedRevocationDeps, revokeThroughLedger } from "./revocation";

/**
 * Operator commands on a stalled rotation. Each takes the lock's operator hold first (so two
 * commands, or a command and a resume, never interleave), records its intent before its first
 * effect, and tolerates "already done", so re-running one that died half-way finishes it.
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

type OperatorDeps = LockedRevocationDeps;

async function underOperatorHold<T>(
  input: OperatorInput,
  command: string,
  deps: OperatorDeps,
  act: (rotation: RotationRecord & { previous: VersionRef; current: VersionRef }) => Promise<T>,
): Promise<T> {
  if (!input.reason.trim()) throw new InvalidInputError(`${command} needs a reason (--reason "...")`);
  await requireSettings(deps.store, input.secretId);
  const operation = input.operation ?? `op-${randomUUID()}`;
  const held = await holdForOperator(deps, { ...input, operation, command });
  try {
    const rotation = await deps.store.getRotation(input.secretId, held.rotationId);
    if (!rotation?.previous || !rotation.current) {
      throw new OperatorActionRejectedError(
        `rotation ${held.rotationId} of ${input.secretId} has not promoted (phase ${rotation?.phase ?? "unknown"}); ` +
          `only a promoted rotation can be ${command === "rollback" ? "rolled back" : "force-revoked"}: resume it instead`,
      );
    }
    return await act({ ...rotation, previous: rotation.previous, current: rotation.current });
  } finally {
    await deps.lock.releaseOperator(input.secretId, held.rotationId, operation);
  }
}

/**
 * Break-glass: revoke the previous key now, lagging consumers or not, and finish the rotation.
 * 1. Operator hold on the stalled rotation; an unfinished rollback must be finished first.
 * 2. Audit the request with its reason BEFORE any call; record the break-glass on the ledger entry.
 * 3. Revoke through the ledger (the key is still never revoked while it is current or pending).
 * 4. Record `force-revoked` and release the lock; a failed call stays in the ledger for the sweeper.
 */
export async function forceRevoke(input: OperatorInput, deps: OperatorDeps) {
  const settings = await requireSettings(deps.store, input.secretId);
  return underOperatorHold(input, "force-revoke", deps, async (rotation) => {
    if (rotation.rollback) {
      throw new OperatorActionRejectedError(
        `rotation ${rotation.rotationId} of ${input.secretId} has an unfinished rollback: run \`keyshift rollback\` again first`,
      );
    }
    const { previous } = rotation;
    const at = deps.clock.now().toISOString();
    await deps.audit.append({
      secretId: input.secretId,
      actor: input.actor,
      action: "force-revoke-requested",
      details: { rotationId: rotation.rotationId, keyId: previous.exchangeKeyId, reason: input.reason },
    });
    const attempt = await revokeThroughLedger(
      {
        secretId: input.secretId,
        exchangeAccount: settings.exchangeAccount,
        keyId: previous.exchangeKeyId,
        versionId: previous.versionId,
        rotationId: rotation.rotationId,
        kind: "previous",
      },
      input.actor,
      deps,
      { breakGlass: { actor: input.actor, reason: input.reason, at } },
    );
    if (attempt.held) {
      throw new OperatorActionRejectedError(
        `force-revoke of ${previous.exchangeKeyId} refused: ${attempt.held.reason}`,
      );
    }
    await deps.store.putRotation({
      ...rotation,
      phase: "force-revoked",
      outcome: "force-revoked",
      updatedAt: at,
    });
    await deps.audit.append({
      secretId: input.secretId,
      actor: input.actor,
      action: "rotation-force-revoked",
      details: {
        rotationId: rotation.rotationId,
        keyId: previous.exchangeKeyId,
        ledger: attempt.entry.status,
      },
    });
    await deps.lock.release(input.secretId, rotation.rotationId);
    return {
      rotationId: rotation.rotationId,
      keyId: previous.exchangeKeyId,
      ledger: attempt.entry.status,
      error: attempt.error,
    };
  });
}

/**
 * Move AWSCURRENT back to the previous version while its key is still valid. The abandoned key
 * becomes the previous one, so `resume` waits for consumers to move back and revokes it through
 * the same gate.
 * 1. Operator hold. A rollback already done is not done twice (a re-run would flip it back).
 * 2. First run: the previous key must be active on the exchange and absent from the ledger; record
 *    the intent (from/to) on the rotation BEFORE the first write. A re-run finds the intent and
 *    finishes it: resume and force-revoke refuse while it is there.
 * 3. Label move (skipped when AWSCURRENT is already back), versions record, rotation record.
 */
export async function rollback(input: OperatorInput, deps: OperatorDeps) {
  const settings = await requireSettings(deps.store, input.secretId);
  return underOperatorHold(input, "rollback", deps, async (rotation) => {
    if (rotation.phase === "rolled-back") {
      throw new OperatorActionRejectedError(
        `rotation ${rotation.rotationId} of ${input.secretId} is already rolled back (current ${rotation.current.versionId}); ` +
          "`keyshift resume` revokes the abandoned key once consumers are back",
      );
    }
    let intent = rotation.rollback;
    if (!intent) {
      const { previous, current } = rotation;
      const entry = await deps.ledger.get(ledgerEntryId(settings.exchangeAccount, previous.exchangeKeyId));
      const listing = await deps.exchange.listKeys(settings.exchangeAccount);
      const stillActive = listing.keys.some(
        (k) => k.keyId === previous.exchangeKeyId && k.status === "active",
      );
      if (entry || !stillActive) throw rollbackRefused(input.secretId, previous, entry);
      intent = {
        from: current,
        to: previous,
        requestedAt: deps.clock.now().toISOString(),
        actor: input.actor,
        reason: input.reason,
      };
      await deps.audit.append({
        secretId: input.secretId,
        actor: input.actor,
        action: "rollback-requested",
        details: { rotationId: rotation.rotationId, toVersionId: previous.versionId, reason: input.reason },
      });
      await deps.store.putRotation({ ...rotation, rollback: intent, updatedAt: intent.requestedAt });
    }
    const versions = await deps.secrets.listVersions(input.secretId);
    const holder = versions.find((v) => v.stages.includes(STAGE.current));
    if (holder?.versionId !== intent.to.versionId) {
      await deps.secrets.moveStage(input.secretId, STAGE.current, {
        to: intent.to.versionId,
        from: holder?.versionId,
      });
    }
    const now = deps.clock.now().toISOString();
    const recorded = await deps.store.getVersions(input.secretId);
    if (recorded?.current?.versionId !== intent.to.versionId) {
      await deps.store.putVersions({
        secretId: input.secretId,
        current: intent.to,
        previous: intent.from,
        promotedAt: now,
        updatedAt: now,
      });
    }
    const { rollback: _done, ...rest } = rotation;
    await deps.store.putRotation({
      ...rest,
      phase: "rolled-back",
      current: intent.to,
      previous: intent.from,
      deadlineAt: undefined,
      updatedAt: now,
    });
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
    return {
      rotationId: rotation.rotationId,
      currentVersionId: intent.to.versionId,
      abandonedKeyId: intent.from.exchangeKeyId,
    };
  });
}

function rollbackRefused(secretId: string, previous: VersionRef, entry: LedgerEntry | undefined) {
  return new OperatorActionRejectedError(
    `cannot roll back ${secretId}: previous key ${previous.exchangeKeyId} is ` +
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
