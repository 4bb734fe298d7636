import type { Deps } from "../deps";
import { InvalidInputError, RotationInProgressError } from "../errors";
import type { RotationRecord } from "../model";
import { drivingExecution } from "./lock";

/*
 * Taking a rotation over (a resume, an escalation) claims its record before its lock: from the claim
 * on, the execution it replaces cannot write the record, even from a step it is still in (I4).
 */

/**
 * Claims a rotation record for a resume, before it takes the lock: conditional on the writer it
 * read. Tried again only when the one that wrote in between is the execution being replaced (a
 * step it was still in) — never over another resume or command: of two, one claims, the other is
 * refused with `RotationInProgressError` and changes nothing.
 */
export async function claimForExecution(
  deps: Pick<Deps, "store">,
  secretId: string,
  rotationId: string,
  execution: string,
  replaced: string,
): Promise<RotationRecord> {
  let expected: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const read = await deps.store.getRotation(secretId, rotationId);
    if (!read) throw new InvalidInputError(`rotation ${rotationId} of ${secretId} has no record to resume`);
    if (read.fence === execution) return read;
    if (attempt > 1 && read.fence !== expected && read.fence !== replaced) {
      throw new RotationInProgressError(
        `rotation ${rotationId} of ${secretId} was claimed by ${read.fence} meanwhile: it resumes it, not ${execution}`,
      );
    }
    expected = read.fence;
    try {
      return await deps.store.claimRotation(secretId, rotationId, execution, read.fence);
    } catch (err) {
      if (!(err instanceof RotationInProgressError) || attempt >= 3) throw err;
    }
  }
}

/**
 * A takeover that claimed the record but could not take the lock gives the record back — to `to`
 * (the writer it replaced), or to whoever drives the lock — or that one could not write it any more.
 * Best effort: a hand-back that fails too leaves the record to the taker's retry, which claims it
 * again and finishes the takeover.
 */
export async function giveRecordBack(
  deps: Pick<Deps, "store" | "lock">,
  claim: { secretId: string; rotationId: string; from: string; to?: string | undefined },
): Promise<void> {
  const driver = await deps.lock.get(claim.secretId).catch(() => undefined);
  if (driver?.rotationId !== claim.rotationId) return;
  const back = claim.to ?? drivingExecution(driver);
  if (back === claim.from) return;
  await deps.store.claimRotation(claim.secretId, claim.rotationId, back, claim.from).catch(() => undefined);
}

/**
 * `err` from a record write of an execution that took the lock: when it says the record was claimed
 * by another execution since (a takeover between this one's claim and its lock, which may die
 * before it reaches the lock), this execution stalls the lock it drives before it rethrows — no lock
 * is left held with no execution behind it (I4), and the taker, or an operator's resume, takes it
 * from there. Conditional on this execution still driving it. Always rethrows `err`.
 */
export async function stallFencedOut(
  deps: Pick<Deps, "lock">,
  ref: { secretId: string; rotationId: string; execution: string },
  err: unknown,
): Promise<never> {
  if (err instanceof RotationInProgressError) {
    await deps.lock
      .markStalled(ref.secretId, ref.rotationId, { execution: ref.execution })
      .catch((lost: unknown) => {
        if (!(lost instanceof RotationInProgressError)) throw lost;
      });
  }
  throw err;
}
