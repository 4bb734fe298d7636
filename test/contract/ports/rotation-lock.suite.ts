/**
 * The `RotationLock` port (one writer per secret, I4): every conditional write the rotation steps,
 * the resume, the escalation and the operator commands rely on, with the execution fencing. Refused
 * writes throw `RotationInProgressError` and change nothing, in every implementation.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { RotationInProgressError } from "../../../src/core/errors";
import type { LockRecord } from "../../../src/core/model";
import type { RotationLock, RotationStore } from "../../../src/core/ports";
import { at, iso, LEASE, lockRefused, NEVER, type PortTarget, T0 } from "./support";

export interface LockTarget extends PortTarget<RotationLock & RotationStore> {
  /** Writes a lock as a version before execution fencing stored it (no `execution`), unconditionally. */
  writeLegacyLock(lock: Omit<LockRecord, "execution">): Promise<void>;
}

export function rotationLockContract(target: LockTarget): void {
  describe(`RotationLock (${target.name})`, () => {
    let lock: RotationLock & RotationStore;
    beforeEach(() => {
      lock = target.make();
    });

    /** A lock held by `rotationId` since T0 and then stalled (as `markStalled` leaves it). */
    async function stalledLock(secretId: string, rotationId: string): Promise<LockRecord> {
      await lock.acquire(secretId, rotationId, T0, LEASE);
      await lock.markStalled(secretId, rotationId);
      const held = await lock.get(secretId);
      expect(held).toMatchObject({ rotationId, stalled: true, leaseExpiresAt: NEVER });
      return held as LockRecord;
    }

    describe("acquire", () => {
      it("takes a free lock: running, leased from now, driven by the rotation's own execution", async () => {
        const secretId = target.id("acquire-free");

        const taken = await lock.acquire(secretId, "rot-1", T0, LEASE);

        const expected: LockRecord = {
          secretId,
          rotationId: "rot-1",
          acquiredAt: T0.toISOString(),
          leaseExpiresAt: iso(LEASE),
          stalled: false,
          execution: "rot-1",
        };
        expect(taken).toEqual(expected);
        expect(await lock.get(secretId)).toEqual(expected);
      });

      it("is re-entered by the same running rotation, with a fresh lease", async () => {
        const secretId = target.id("acquire-reentry");
        await lock.acquire(secretId, "rot-1", T0, LEASE);

        const again = await lock.acquire(secretId, "rot-1", at(60), LEASE);

        expect(again).toMatchObject({ rotationId: "rot-1", stalled: false, leaseExpiresAt: iso(60 + LEASE) });
        expect(await lock.get(secretId)).toEqual(again);
      });

      it("is refused for another rotation, changing nothing — even long past the holder's lease (no takeover)", async () => {
        const secretId = target.id("acquire-other");
        const first = await lock.acquire(secretId, "rot-1", T0, LEASE);

        const whileRunning = await lockRefused(lock.acquire(secretId, "rot-2", at(LEASE - 1), LEASE));
        const pastLease = await lockRefused(lock.acquire(secretId, "rot-2", at(LEASE * 100), LEASE));

        expect(whileRunning.message).toContain("rot-1");
        expect(pastLease.message).toContain("rotation rot-2 changed nothing");
        expect(await lock.get(secretId)).toEqual(first);
      });

      it("is refused when stalled, for another rotation and even for the holding one", async () => {
        const secretId = target.id("acquire-stalled");
        const stalled = await stalledLock(secretId, "rot-1");

        const other = await lockRefused(
          lock.acquire(secretId, "rot-2", new Date("9000-01-01T00:00:00.000Z"), LEASE),
        );
        await lockRefused(lock.acquire(secretId, "rot-1", at(10), LEASE));

        expect(other.message).toContain("stalled");
        expect(await lock.get(secretId)).toEqual(stalled);
      });

      // Found by this suite: re-entry used to be `rotationId = :rid AND stalled = :false` and rewrote the
      // item with `execution: rotationId`, so the execution a resume replaced could take the lock back.
      it("refuses re-entry by the rotation once a resume handed the lock to another execution", async () => {
        const secretId = target.id("acquire-after-resume");
        await stalledLock(secretId, "rot-1");
        const resumed = await lock.resume(secretId, "rot-1", "exec-2", at(60), LEASE);

        const reentry = await lock.acquire(secretId, "rot-1", at(70), LEASE).then(
          () => "taken back",
          (err: unknown) => (err instanceof RotationInProgressError ? "refused" : String(err)),
        );
        const after = await lock.get(secretId);
        const replacedRenews = await lock.renew(secretId, "rot-1", "rot-1", at(80), LEASE).then(
          () => "renews again",
          () => "fenced out",
        );

        expect(
          { reentry, drivenBy: after?.execution, replacedRenews },
          "the replaced execution must not take the lock back from exec-2",
        ).toEqual({ reentry: "refused", drivenBy: resumed.execution, replacedRenews: "fenced out" });
      });
    });

    describe("renew", () => {
      it("extends the lease for the execution that drives the lock", async () => {
        const secretId = target.id("renew-driver");
        await lock.acquire(secretId, "rot-1", T0, LEASE);

        const renewed = await lock.renew(secretId, "rot-1", "rot-1", at(500), LEASE);

        expect(renewed).toEqual({
          secretId,
          rotationId: "rot-1",
          acquiredAt: T0.toISOString(),
          leaseExpiresAt: iso(500 + LEASE),
          stalled: false,
          execution: "rot-1",
        });
        expect(await lock.get(secretId)).toEqual(renewed);
      });

      it("is refused for an execution that does not drive the lock: the one a resume replaced is fenced out", async () => {
        const secretId = target.id("renew-fenced");
        await stalledLock(secretId, "rot-1");
        await lock.resume(secretId, "rot-1", "exec-2", at(60), LEASE);
        const resumed = await lock.get(secretId);

        const replaced = await lockRefused(lock.renew(secretId, "rot-1", "rot-1", at(70), LEASE));
        const stranger = await lockRefused(lock.renew(secretId, "rot-1", "exec-3", at(70), LEASE));
        const afterRefusals = await lock.get(secretId);
        const driver = await lock.renew(secretId, "rot-1", "exec-2", at(80), LEASE);

        expect(replaced.message).toContain("exec-2");
        expect(stranger).toBeInstanceOf(RotationInProgressError);
        expect(afterRefusals).toEqual(resumed);
        expect(driver).toMatchObject({
          execution: "exec-2",
          leaseExpiresAt: iso(80 + LEASE),
          stalled: false,
        });
      });

      it("is refused for another rotation id and on a free lock, never creating one", async () => {
        const secretId = target.id("renew-other");
        const free = target.id("renew-free");
        const first = await lock.acquire(secretId, "rot-1", T0, LEASE);

        await lockRefused(lock.renew(secretId, "rot-2", "rot-1", at(10), LEASE));
        const onFree = await lockRefused(lock.renew(free, "rot-1", "rot-1", at(10), LEASE));

        expect(onFree.message).toContain("the lock is free");
        expect(await lock.get(secretId)).toEqual(first);
        expect(await lock.get(free)).toBeUndefined();
      });

      it("is refused while stalled, even for the execution that drove it", async () => {
        const secretId = target.id("renew-stalled");
        const stalled = await stalledLock(secretId, "rot-1");

        await lockRefused(lock.renew(secretId, "rot-1", "rot-1", at(10), LEASE));

        expect(await lock.get(secretId)).toEqual(stalled);
      });

      it("renews a lock written before fencing (no execution attribute) for its rotation's own steps", async () => {
        const secretId = target.id("renew-legacy");
        await target.writeLegacyLock({
          secretId,
          rotationId: "rot-1",
          acquiredAt: T0.toISOString(),
          leaseExpiresAt: iso(LEASE),
          stalled: false,
        });

        const renewed = await lock.renew(secretId, "rot-1", "rot-1", at(100), LEASE);

        expect(renewed).toEqual({
          secretId,
          rotationId: "rot-1",
          acquiredAt: T0.toISOString(),
          leaseExpiresAt: iso(100 + LEASE),
          stalled: false,
        });
      });
    });

    describe("markStalled", () => {
      it("plain: stalls the holder's lock whatever its lease (no expiry any more), keeping its execution", async () => {
        const secretId = target.id("stall-plain");
        await lock.acquire(secretId, "rot-1", T0, LEASE);

        await lock.markStalled(secretId, "rot-1");

        expect(await lock.get(secretId)).toEqual({
          secretId,
          rotationId: "rot-1",
          acquiredAt: T0.toISOString(),
          leaseExpiresAt: NEVER,
          stalled: true,
          execution: "rot-1",
        });
      });

      it("plain: is idempotent on a lock already stalled by its holder", async () => {
        const secretId = target.id("stall-twice");
        const stalled = await stalledLock(secretId, "rot-1");

        await lock.markStalled(secretId, "rot-1");

        expect(await lock.get(secretId)).toEqual(stalled);
      });

      it("plain: is refused for another rotation and on a free lock, never creating one", async () => {
        const secretId = target.id("stall-other");
        const free = target.id("stall-free");
        const first = await lock.acquire(secretId, "rot-1", T0, LEASE);

        await lockRefused(lock.markStalled(secretId, "rot-2"));
        await lockRefused(lock.markStalled(free, "rot-1"));

        expect(await lock.get(secretId)).toEqual(first);
        expect(await lock.get(free)).toBeUndefined();
      });

      it("with expiredAt: refused before the lease ended and at its last instant, passes once it has ended", async () => {
        const secretId = target.id("stall-expired");
        const first = await lock.acquire(secretId, "rot-1", T0, LEASE);

        await lockRefused(lock.markStalled(secretId, "rot-1", { expiredAt: at(LEASE - 1) }));
        const atExpiry = await lockRefused(lock.markStalled(secretId, "rot-1", { expiredAt: at(LEASE) }));
        const untouched = await lock.get(secretId);
        await lock.markStalled(secretId, "rot-1", { expiredAt: at(LEASE + 1) });

        expect(atExpiry.message).toContain("with an expired lease");
        expect(untouched).toEqual(first);
        expect(await lock.get(secretId)).toMatchObject({
          rotationId: "rot-1",
          stalled: true,
          leaseExpiresAt: NEVER,
        });
      });

      it("with expiredAt: refused when the holder renewed meanwhile (the lease it saw is no longer the lease)", async () => {
        const secretId = target.id("stall-renewed");
        await lock.acquire(secretId, "rot-1", T0, LEASE);
        const renewed = await lock.renew(secretId, "rot-1", "rot-1", at(LEASE - 10), LEASE);

        await lockRefused(lock.markStalled(secretId, "rot-1", { expiredAt: at(LEASE + 1) }));

        expect(await lock.get(secretId)).toEqual(renewed);
      });

      it("with expiredAt: refused when already stalled, and for another rotation", async () => {
        const secretId = target.id("stall-expired-stalled");
        const other = target.id("stall-expired-other");
        const stalled = await stalledLock(secretId, "rot-1");
        const running = await lock.acquire(other, "rot-1", T0, LEASE);

        await lockRefused(
          lock.markStalled(secretId, "rot-1", { expiredAt: new Date("9999-12-31T23:59:59.999Z") }),
        );
        await lockRefused(lock.markStalled(other, "rot-2", { expiredAt: at(LEASE * 10) }));

        expect(await lock.get(secretId)).toEqual(stalled);
        expect(await lock.get(other)).toEqual(running);
      });
    });

    describe("resume", () => {
      it("hands a stalled lock to the resuming execution: running again, fresh lease, new fence", async () => {
        const secretId = target.id("resume");
        await stalledLock(secretId, "rot-1");

        const resumed = await lock.resume(secretId, "rot-1", "exec-2", at(1000), LEASE);

        const expected: LockRecord = {
          secretId,
          rotationId: "rot-1",
          acquiredAt: T0.toISOString(),
          leaseExpiresAt: iso(1000 + LEASE),
          stalled: false,
          execution: "exec-2",
        };
        expect(resumed).toEqual(expected);
        expect(await lock.get(secretId)).toEqual(expected);
      });

      it("is re-entered by the same execution (its BeginRotation retried), with a fresh lease", async () => {
        const secretId = target.id("resume-reentry");
        await stalledLock(secretId, "rot-1");
        await lock.resume(secretId, "rot-1", "exec-2", at(100), LEASE);

        const again = await lock.resume(secretId, "rot-1", "exec-2", at(200), LEASE);

        expect(again).toMatchObject({
          execution: "exec-2",
          stalled: false,
          leaseExpiresAt: iso(200 + LEASE),
        });
        expect(await lock.get(secretId)).toEqual(again);
      });

      it("is refused on a lock that is not stalled, for another execution (a running holder, or a resume that won)", async () => {
        const secretId = target.id("resume-running");
        const resumedId = target.id("resume-won");
        const running = await lock.acquire(secretId, "rot-1", T0, LEASE);
        await stalledLock(resumedId, "rot-1");
        const won = await lock.resume(resumedId, "rot-1", "exec-2", at(100), LEASE);

        // Past the lease too: a running holder whose execution is gone is stalled first, never resumed over.
        await lockRefused(lock.resume(secretId, "rot-1", "exec-2", at(LEASE * 10), LEASE));
        const lost = await lockRefused(lock.resume(resumedId, "rot-1", "exec-3", at(110), LEASE));

        expect(lost.message).toContain("exec-2");
        expect(await lock.get(secretId)).toEqual(running);
        expect(await lock.get(resumedId)).toEqual(won);
      });

      it("of two concurrent resumes exactly one wins; the loser changes nothing", async () => {
        const secretId = target.id("resume-race");
        await stalledLock(secretId, "rot-1");

        const results = await Promise.allSettled([
          lock.resume(secretId, "rot-1", "exec-a", at(100), LEASE),
          lock.resume(secretId, "rot-1", "exec-b", at(100), LEASE),
        ]);

        const won = results.filter((r) => r.status === "fulfilled");
        const lost = results.filter((r) => r.status === "rejected");
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(RotationInProgressError);
        const winner = (won[0] as PromiseFulfilledResult<LockRecord>).value;
        expect(["exec-a", "exec-b"]).toContain(winner.execution);
        expect(await lock.get(secretId)).toEqual(winner);
      });

      it("is refused while an operator command holds the lock (up to its last instant); an expired hold does not block and is cleared", async () => {
        const secretId = target.id("resume-operator");
        await stalledLock(secretId, "rot-1");
        const held = await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);

        const meanwhile = await lockRefused(lock.resume(secretId, "rot-1", "exec-2", at(160), LEASE));
        await lockRefused(lock.resume(secretId, "rot-1", "exec-2", at(220), LEASE));
        const untouched = await lock.get(secretId);
        const resumed = await lock.resume(secretId, "rot-1", "exec-2", at(221), LEASE);

        expect(meanwhile.message).toContain("op-1");
        expect(untouched).toEqual(held);
        expect(resumed).toEqual({
          secretId,
          rotationId: "rot-1",
          acquiredAt: T0.toISOString(),
          leaseExpiresAt: iso(221 + LEASE),
          stalled: false,
          execution: "exec-2",
        });
        expect(await lock.get(secretId)).toEqual(resumed);
      });

      it("is refused for another rotation id and on a free lock, never creating one", async () => {
        const secretId = target.id("resume-other");
        const free = target.id("resume-free");
        const stalled = await stalledLock(secretId, "rot-1");

        await lockRefused(lock.resume(secretId, "rot-2", "exec-2", at(100), LEASE));
        await lockRefused(lock.resume(free, "rot-1", "exec-2", at(100), LEASE));

        expect(await lock.get(secretId)).toEqual(stalled);
        expect(await lock.get(free)).toBeUndefined();
      });
    });

    describe("holdForOperator", () => {
      it("takes a stalled lock for one command until its expiry, leaving it stalled", async () => {
        const secretId = target.id("hold");
        const stalled = await stalledLock(secretId, "rot-1");

        const held = await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);

        expect(held).toEqual({ ...stalled, operator: "op-1", operatorUntil: iso(220) });
        expect(await lock.get(secretId)).toEqual(held);
      });

      it("is exclusive until the hold expires (its last instant included); then another command takes it", async () => {
        const secretId = target.id("hold-exclusive");
        await stalledLock(secretId, "rot-1");
        const first = await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);

        const meanwhile = await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-2", at(150), 120));
        await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-2", at(220), 120));
        const untouched = await lock.get(secretId);
        const taken = await lock.holdForOperator(secretId, "rot-1", "op-2", at(221), 120);

        expect(meanwhile.message).toContain("op-1");
        expect(untouched).toEqual(first);
        expect(taken).toMatchObject({ operator: "op-2", operatorUntil: iso(341), stalled: true });
      });

      it("is re-entrant for the same command: it extends its own hold", async () => {
        const secretId = target.id("hold-reentry");
        await stalledLock(secretId, "rot-1");
        await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);

        const again = await lock.holdForOperator(secretId, "rot-1", "op-1", at(160), 120);

        expect(again).toMatchObject({ operator: "op-1", operatorUntil: iso(280) });
        expect(await lock.get(secretId)).toEqual(again);
      });

      it("is never taken on a running lock, even past its lease; nor for another rotation or a free lock", async () => {
        const secretId = target.id("hold-running");
        const stalledId = target.id("hold-other");
        const free = target.id("hold-free");
        const running = await lock.acquire(secretId, "rot-1", T0, LEASE);
        const stalled = await stalledLock(stalledId, "rot-1");

        await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-1", at(10), 120));
        await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-1", at(LEASE * 10), 120));
        await lockRefused(lock.holdForOperator(stalledId, "rot-2", "op-1", at(10), 120));
        await lockRefused(lock.holdForOperator(free, "rot-1", "op-1", at(10), 120));

        expect(await lock.get(secretId)).toEqual(running);
        expect(await lock.get(stalledId)).toEqual(stalled);
        expect(await lock.get(free)).toBeUndefined();
      });
    });

    describe("operator intents (issue 14, break 11)", () => {
      it("an intent needs the hold; it then refuses resume and other commands past the hold, lets the same command take it over, and is cleared only by its owner", async () => {
        const secretId = target.id("intent");
        await stalledLock(secretId, "rot-1");
        await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120, "rollback");

        await lockRefused(lock.recordIntent(secretId, "rot-1", "op-2", "rollback"));
        const recorded = await lock.recordIntent(secretId, "rot-1", "op-1", "rollback");
        await lockRefused(lock.resume(secretId, "rot-1", "exec-2", at(1000), LEASE));
        await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-2", at(1000), 120, "force-revoke"));
        await lockRefused(lock.holdForOperator(secretId, "rot-1", "op-2", at(1000), 120));
        await lock.holdForOperator(secretId, "rot-1", "op-2", at(1000), 120, "rollback");
        await lock.recordIntent(secretId, "rot-1", "op-2", "rollback");
        await lock.clearIntent(secretId, "rot-1", "op-1");
        const stillThere = await lock.get(secretId);
        await lock.clearIntent(secretId, "rot-1", "op-2");

        expect(recorded).toMatchObject({ intent: "rollback", intentOperation: "op-1", operator: "op-1" });
        expect(stillThere).toMatchObject({ intent: "rollback", intentOperation: "op-2" });
        const cleared = await lock.get(secretId);
        expect(cleared).not.toHaveProperty("intent");
        expect(cleared).not.toHaveProperty("intentOperation");
        await lock.resume(secretId, "rot-1", "exec-2", at(1200), LEASE);
      });
    });

    describe("releaseOperator", () => {
      it("gives back the command's own hold, so another command can take it at once", async () => {
        const secretId = target.id("unhold");
        const stalled = await stalledLock(secretId, "rot-1");
        await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);

        await lock.releaseOperator(secretId, "rot-1", "op-1");
        const released = await lock.get(secretId);
        const next = await lock.holdForOperator(secretId, "rot-1", "op-2", at(110), 120);

        expect(released).toEqual(stalled);
        expect(next).toMatchObject({ operator: "op-2" });
      });

      it("never removes another command's hold — not even one that replaced its own expired hold", async () => {
        const secretId = target.id("unhold-other");
        await stalledLock(secretId, "rot-1");
        await lock.holdForOperator(secretId, "rot-1", "op-1", at(100), 120);
        const replaced = await lock.holdForOperator(secretId, "rot-1", "op-2", at(300), 120);

        // op-1's late `finally`, a stranger, and the right command under a wrong rotation id: all no-ops.
        await lock.releaseOperator(secretId, "rot-1", "op-1");
        await lock.releaseOperator(secretId, "rot-1", "op-3");
        await lock.releaseOperator(secretId, "rot-2", "op-2");

        expect(await lock.get(secretId)).toEqual(replaced);
      });

      it("is a no-op on a lock with no hold and on a free lock, never creating one", async () => {
        const secretId = target.id("unhold-none");
        const free = target.id("unhold-free");
        const stalled = await stalledLock(secretId, "rot-1");

        await lock.releaseOperator(secretId, "rot-1", "op-1");
        await lock.releaseOperator(free, "rot-1", "op-1");

        expect(await lock.get(secretId)).toEqual(stalled);
        expect(await lock.get(free)).toBeUndefined();
      });
    });

    describe("release", () => {
      it("deletes the lock only for its holder (running or stalled); another rotation's release is a no-op", async () => {
        const running = target.id("release-running");
        const stalledId = target.id("release-stalled");
        const first = await lock.acquire(running, "rot-1", T0, LEASE);
        await stalledLock(stalledId, "rot-1");

        await lock.release(running, "rot-2");
        const afterForeign = await lock.get(running);
        await lock.release(running, "rot-1");
        await lock.release(stalledId, "rot-1");

        expect(afterForeign).toEqual(first);
        expect(await lock.get(running)).toBeUndefined();
        expect(await lock.get(stalledId)).toBeUndefined();
        // Freed: a new rotation takes it.
        expect(await lock.acquire(running, "rot-2", at(10), LEASE)).toMatchObject({ rotationId: "rot-2" });
      });

      it("is a no-op when already gone", async () => {
        const secretId = target.id("release-gone");
        await lock.acquire(secretId, "rot-1", T0, LEASE);
        await lock.release(secretId, "rot-1");

        await lock.release(secretId, "rot-1");
        await lock.release(target.id("release-never"), "rot-1");

        expect(await lock.get(secretId)).toBeUndefined();
      });
    });
  });
}
