import { randomUUID } from "node:crypto";
import { requireSettings } from "../deps";
import { InvalidInputError, OperatorActionRejectedError, RotationInProgressError } from "../errors";
import { FINAL_PHASES, type OperatorIntent, type RotationRecord, type VersionRef } from "../model";
import type { LockedRevocationDeps } from "../revocation/through-ledger";
import { holdForOperator, OPERATOR_HOLD_SECONDS } from "../rotation/lock";
import type { OperatorInput } from "./actions";

export type OperatorDeps = LockedRevocationDeps;
type Promoted = RotationRecord & { previous: VersionRef; current: VersionRef; fence: string };

/** What a command holds once it has claimed the rotation record and recorded its intent on the lock. */
export interface Claim {
  operation: string;
  /** The record as it stands after the claim (read after the intent was on the lock). */
  rotation: Promoted;
  /** Writes the record only while this command's claim stands (`putRotationFenced`). */
  write(next: RotationRecord): Promise<void>;
  /** Throws unless the record's fence is still this command's: read right before an effect. */
  stillMine(): Promise<void>;
  /** Refusal after the claim: remove this command's intent from the record and the lock, then throw. */
  refuse(err: Error, intentField?: "rollback" | "forceRevoke"): Promise<never>;
}

/**
 * The fencing every operator command goes through (break 11: the hold is a lease with no renewal,
 * so a command paused past it — a suspended CLI — must not write after another took over):
 * 1. The operator hold on the stalled lock (keeps two live commands apart).
 * 2. Claim the rotation record: its `fence` becomes this operation, conditional on the fence read
 *    with it — the command's first write. Every later write to the record is conditional on the
 *    fence still being this operation's: a later claim (another command, or this one's re-run)
 *    fences it out for good, whatever the pause.
 * 3. Record the intent on the lock, conditional on still holding it: from then on resume and other
 *    commands are refused by the lock itself, lease or no lease, and only this command's re-run
 *    may take the intent over (claiming the record first, so the paused one stays fenced out).
 * 4. Re-read the record: every decision is made on what was read after 3.
 */
export async function underOperatorHold<T>(
  input: OperatorInput,
  command: OperatorIntent,
  deps: OperatorDeps,
  act: (claim: Claim) => Promise<T>,
): Promise<T> {
  const { secretId } = input;
  if (!input.reason.trim()) throw new InvalidInputError(`${command} needs a reason (--reason "...")`);
  await requireSettings(deps.store, secretId);
  const operation = input.operation ?? `op-${randomUUID()}`;
  const held = await holdForOperator(deps, { ...input, operation, command });
  const { rotationId } = held;
  try {
    const read = await deps.store.getRotation(secretId, rotationId);
    requirePromoted(read, input, command, rotationId);
    await takenOver(() => deps.store.claimRotation(secretId, rotationId, operation, read.fence), operation);
    await takenOver(() => deps.lock.recordIntent(secretId, rotationId, operation, command), operation);
    const rotation = await deps.store.getRotation(secretId, rotationId);
    requirePromoted(rotation, input, command, rotationId);
    if (rotation.fence !== operation) throw takenOverError(operation, rotation.fence);
    const stillMine = async () => {
      const now = await deps.store.getRotation(secretId, rotationId);
      if (now?.fence !== operation) throw takenOverError(operation, now?.fence);
    };
    const write = (next: RotationRecord) =>
      takenOver(() => deps.store.putRotationFenced({ ...next, fence: operation }), operation);
    const claim: Claim = {
      operation,
      rotation: { ...rotation, fence: operation },
      write,
      stillMine,
      async refuse(err, intentField) {
        if (intentField) {
          const now = await deps.store.getRotation(secretId, rotationId);
          if (now?.[intentField]) {
            const { [intentField]: _withdrawn, ...rest } = now;
            await write({ ...rest, updatedAt: deps.clock.now().toISOString() });
          }
        }
        await deps.lock.clearIntent(secretId, rotationId, operation);
        throw err;
      },
    };
    const other =
      command === "rollback" ? rotation.forceRevoke && "force-revoke" : rotation.rollback && "rollback";
    if (other) {
      // Only reachable when the lock lost its intent to a crash-free race we do not know of; refuse.
      return await claim.refuse(
        new OperatorActionRejectedError(
          `rotation ${rotationId} of ${secretId} has an unfinished ${other}: run \`keyshift ${other} ${secretId}\` again first`,
        ),
      );
    }
    return await act(claim);
  } finally {
    await deps.lock.releaseOperator(secretId, rotationId, operation);
  }
}

function requirePromoted(
  rotation: RotationRecord | undefined,
  input: OperatorInput,
  command: OperatorIntent,
  rotationId: string,
): asserts rotation is RotationRecord & { previous: VersionRef; current: VersionRef } {
  if (!rotation?.previous || !rotation.current) {
    throw new OperatorActionRejectedError(
      `rotation ${rotationId} of ${input.secretId} has not promoted (phase ${rotation?.phase ?? "unknown"}); ` +
        `only a promoted rotation can be ${command === "rollback" ? "rolled back" : "force-revoked"}: resume it instead`,
    );
  }
  if (FINAL_PHASES.includes(rotation.phase)) {
    throw new OperatorActionRejectedError(
      `rotation ${rotationId} of ${input.secretId} is ${rotation.phase}: nothing to ${command}`,
    );
  }
}

/** A refused conditional write means another command (or this one's re-run) claimed the rotation. */
export async function takenOver<T>(write: () => Promise<T>, operation: string): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!(err instanceof RotationInProgressError)) throw err;
    throw takenOverError(operation, undefined, err);
  }
}

function takenOverError(operation: string, by: string | undefined, cause?: unknown) {
  return new OperatorActionRejectedError(
    `operator command ${operation} lost its claim on the rotation${by ? ` to ${by}` : ""} (it was paused past its ` +
      `${OPERATOR_HOLD_SECONDS}s hold, or another command took over); it stopped before its next write: ` +
      "see `keyshift status`, then re-run the command if it is still needed",
    { cause },
  );
}
