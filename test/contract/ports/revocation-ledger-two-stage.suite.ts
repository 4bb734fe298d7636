/**
 * The `RevocationLedger` port's two-stage transitions and its claims (no transactions, conditional
 * writes only): disable → restoring → restored | withdrawn, a failed removal, the attempt's claim
 * with its lease, and the mutual exclusion of an attempt and a restore.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { RevocationLedger } from "../../../src/core/ports";
import { ledgerHelpers } from "./ledger-support";
import { at, iso, type PortTarget, refusal, T0 } from "./support";

export function revocationLedgerTwoStageContract(target: PortTarget<RevocationLedger>): void {
  describe(`RevocationLedger two-stage and claims (${target.name})`, () => {
    let ledger: RevocationLedger;
    beforeEach(() => {
      ledger = target.make();
    });
    const { entryAt, expectDue } = ledgerHelpers(target, () => ledger);

    describe("two-stage transitions (disable, restore, remove)", () => {
      it("pending → disabled: one attempt counted, due for removal at removeAfter, not before", async () => {
        const entry = entryAt(T0, "disable");
        await ledger.openPending(entry);

        const disabled = await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(3630) });

        expect(disabled).toMatchObject({
          status: "disabled",
          attempts: 1,
          attemptsAtDisable: 1,
          disabledAt: iso(30),
          nextAttemptAt: iso(3630),
          needsOperator: false,
        });
        await expectDue(at(3629), [entry.entryId], []);
        await expectDue(at(3630), [entry.entryId], [entry.entryId]);
      });

      it("a restored key re-retired by a failed attempt is retired from that attempt on", async () => {
        const entry = entryAt(T0, "restore-fail");
        await ledger.openPending(entry);
        const disabled = await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(600) });
        await ledger.beginRestore(entry.entryId, { owner: "r-2", actor: "op", reason: "why", at: at(35) });
        await ledger.markRestored(entry.entryId, { owner: "r-2", at: at(40) });
        await ledger.requeue(entry.entryId, at(50));
        const failed = await ledger.markFailed(entry.entryId, {
          at: at(70),
          error: "timeout",
          nextAttemptAt: at(100),
          needsOperator: false,
        });

        expect(disabled).toMatchObject({ reRetiredAt: iso(30) });
        expect(disabled.lastRestoredAt).toBeUndefined();
        expect(failed).toMatchObject({ status: "failed", reRetiredAt: iso(70), lastRestoredAt: iso(40) });
        expect(failed.restored).toMatchObject({ at: iso(40) });
      });

      it("a failed removal keeps the entry disabled (stage remove); a first-stage failure is refused once disabled", async () => {
        const entry = entryAt(T0, "disable-fail");
        await ledger.openPending(entry);
        await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(60) });

        const removalFailed = await ledger.markFailed(entry.entryId, {
          at: at(60),
          error: "HTTP 503",
          nextAttemptAt: at(120),
          needsOperator: false,
          stage: "remove",
        });
        const lateFirstStage = await ledger.markFailed(entry.entryId, {
          at: at(61),
          error: "late disable answer",
          nextAttemptAt: at(90),
          needsOperator: false,
        });

        expect(removalFailed).toMatchObject({ status: "disabled", attempts: 2, lastError: "HTTP 503" });
        expect(lateFirstStage).toEqual(removalFailed);
      });

      it("disabled → restoring (off the sweep) → restored (needs an operator) → requeued → disabled again → revoked", async () => {
        const entry = entryAt(T0, "restore");
        await ledger.openPending(entry);
        await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(600) });

        const intent = await ledger.beginRestore(entry.entryId, {
          owner: "restore-1",
          actor: "op",
          reason: "unregistered reader",
          at: at(35),
        });
        await expectDue(at(10_000), [entry.entryId], []);
        const restored = await ledger.markRestored(entry.entryId, { owner: "restore-1", at: at(40) });
        await expectDue(at(10_000), [entry.entryId], []);
        await ledger.requeue(entry.entryId, at(50));
        const again = await ledger.markDisabled(entry.entryId, { at: at(60), removeAfter: at(700) });
        const revoked = await ledger.markRevoked(entry.entryId, at(700));

        expect(intent).toMatchObject({
          status: "restoring",
          restoring: { owner: "restore-1", actor: "op", reason: "unregistered reader", at: iso(35) },
        });
        expect(restored).toMatchObject({
          status: "restored",
          needsOperator: true,
          restored: { actor: "op", reason: "unregistered reader", at: iso(40) },
        });
        expect(restored.restoring).toBeUndefined();
        expect(again).toMatchObject({ status: "disabled", attempts: 2, attemptsAtDisable: 2 });
        expect(again.restored).toBeUndefined();
        expect(revoked).toMatchObject({ status: "revoked", attempts: 3 });
        // In service again once restored (`lastRestoredAt`, kept); retired anew by the attempt that
        // passed the gate again (misuse detection judges use after it), and kept from then.
        expect(restored.reRetiredAt).toBeUndefined();
        expect(restored.lastRestoredAt).toBe(iso(40));
        expect(again).toMatchObject({ reRetiredAt: iso(60), lastRestoredAt: iso(40) });
        expect(revoked).toMatchObject({ reRetiredAt: iso(60), lastRestoredAt: iso(40) });
      });

      it("refuses to disable or restore a revoked entry, and to restore one that is not disabled", async () => {
        const pending = entryAt(T0, "restore-pending");
        const gone = entryAt(T0, "disable-revoked");
        await ledger.openPending(pending);
        await ledger.openPending(gone);
        const revoked = await ledger.markRevoked(gone.entryId, at(10));

        expect(
          await ledger.beginRestore(pending.entryId, { owner: "r", actor: "op", reason: "x", at: at(20) }),
        ).toMatchObject({
          status: "pending",
        });
        expect(await ledger.markRestored(pending.entryId, { owner: "r", at: at(20) })).toMatchObject({
          status: "pending",
        });
        expect(await ledger.markDisabled(gone.entryId, { at: at(20), removeAfter: at(60) })).toEqual(revoked);
        expect(
          await ledger.beginRestore(gone.entryId, { owner: "r", actor: "op", reason: "x", at: at(20) }),
        ).toEqual(revoked);
      });
    });

    describe("claims and restores (issue 14: no transactions, conditional writes only)", () => {
      const claimFor = (owner: string, from: number) => ({ owner, at: at(from), until: at(from + 1200) });

      it("a claim needs the status and attempts the attempt read and no live claim; transitions need the claim and give it back", async () => {
        const entry = entryAt(T0, "claim");
        await ledger.openPending(entry);

        const stale = await ledger.claim(entry.entryId, { status: "failed", attempts: 0 }, claimFor("a", 10));
        const first = await ledger.claim(
          entry.entryId,
          { status: "pending", attempts: 0 },
          claimFor("a", 10),
        );
        const second = await ledger.claim(
          entry.entryId,
          { status: "pending", attempts: 0 },
          claimFor("b", 20),
        );
        const unowned = await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(600) });
        const byOther = await ledger.markDisabled(entry.entryId, {
          at: at(30),
          removeAfter: at(600),
          owner: "b",
        });
        const disabled = await ledger.markDisabled(entry.entryId, {
          at: at(30),
          removeAfter: at(600),
          owner: "a",
        });

        expect(stale.claim).toBeUndefined();
        expect(first.claim).toEqual({ owner: "a", until: iso(1210) });
        expect(second.claim?.owner).toBe("a");
        expect(unowned.status).toBe("pending");
        expect(byOther.status).toBe("pending");
        expect(disabled).toMatchObject({ status: "disabled", attempts: 1 });
        expect(disabled.claim).toBeUndefined();
      });

      it("a claim past its lease is taken over; `dueBy` refuses an entry not yet due; releaseClaim frees only its owner's", async () => {
        const entry = entryAt(T0, "claim-lease");
        await ledger.openPending(entry); // due at 300

        const early = await ledger.claim(
          entry.entryId,
          { status: "pending", attempts: 0, dueBy: at(299) },
          claimFor("a", 299),
        );
        await ledger.claim(
          entry.entryId,
          { status: "pending", attempts: 0, dueBy: at(300) },
          claimFor("a", 300),
        );
        const notOwner = await ledger.releaseClaim(entry.entryId, "b");
        const taken = await ledger.claim(
          entry.entryId,
          { status: "pending", attempts: 0 },
          claimFor("b", 1500),
        );
        const released = await ledger.releaseClaim(entry.entryId, "b");

        expect(early.claim).toBeUndefined();
        expect(notOwner.claim?.owner).toBe("a");
        expect(taken.claim?.owner).toBe("b");
        expect(released.claim).toBeUndefined();
      });

      it("a restore's intent is refused while an attempt holds its claim, and an attempt's claim while restoring", async () => {
        const entry = entryAt(T0, "restore-claim");
        await ledger.openPending(entry);
        await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(600) });
        await ledger.claim(entry.entryId, { status: "disabled", attempts: 1 }, claimFor("sweeper", 600));

        const refused = await ledger.beginRestore(entry.entryId, {
          owner: "r",
          actor: "op",
          reason: "x",
          at: at(610),
        });
        const revoked = await ledger.markRevoked(entry.entryId, at(620), "sweeper");
        expect(refused).toMatchObject({ status: "disabled" });
        expect(refused.restoring).toBeUndefined();
        expect(revoked.status).toBe("revoked");

        const other = entryAt(T0, "claim-restoring");
        await ledger.openPending(other);
        await ledger.markDisabled(other.entryId, { at: at(30), removeAfter: at(600) });
        await ledger.beginRestore(other.entryId, { owner: "r", actor: "op", reason: "x", at: at(40) });
        const claimed = await ledger.claim(
          other.entryId,
          { status: "disabled", attempts: 1 },
          claimFor("s", 700),
        );
        const held = await ledger.hold(other.entryId, {
          at: at(700),
          reason: "x",
          nextAttemptAt: at(800),
          needsOperator: false,
        });
        const glass = await ledger.recordBreakGlass(other.entryId, {
          actor: "op",
          reason: "y",
          at: iso(700),
        });
        const requeue = await refusal(ledger.requeue(other.entryId, at(700)));
        expect(claimed).toMatchObject({ status: "restoring" });
        expect(claimed.claim).toBeUndefined();
        expect(held.heldReason).toBeUndefined();
        expect(glass.breakGlass).toBeUndefined();
        expect(requeue.message).toMatch(/restore .* is in progress/);
      });

      it("restored retires the break-glass to history; a later one is recorded anew; a withdrawn restore is back on the sweep", async () => {
        const entry = entryAt(T0, "restore-glass");
        await ledger.openPending(entry);
        await ledger.recordBreakGlass(entry.entryId, { actor: "alice", reason: "leak", at: iso(5) });
        await ledger.markDisabled(entry.entryId, { at: at(30), removeAfter: at(600) });
        await ledger.beginRestore(entry.entryId, { owner: "r1", actor: "op", reason: "x", at: at(40) });
        const takenOver = await ledger.beginRestore(entry.entryId, {
          owner: "r2",
          actor: "op",
          reason: "x",
          at: at(50),
        });
        const stale = await ledger.markRestored(entry.entryId, { owner: "r1", at: at(60) });
        const restored = await ledger.markRestored(entry.entryId, { owner: "r2", at: at(60) });
        const again = await ledger.recordBreakGlass(entry.entryId, {
          actor: "carol",
          reason: "again",
          at: iso(70),
        });

        expect(takenOver.restoring?.owner).toBe("r2");
        expect(stale.status).toBe("restoring");
        expect(restored.breakGlass).toBeUndefined();
        expect(restored.breakGlassHistory).toEqual([{ actor: "alice", reason: "leak", at: iso(5) }]);
        expect(again.breakGlass).toEqual({ actor: "carol", reason: "again", at: iso(70) });

        const other = entryAt(T0, "restore-withdraw");
        await ledger.openPending(other);
        await ledger.markDisabled(other.entryId, { at: at(30), removeAfter: at(600) });
        await ledger.beginRestore(other.entryId, { owner: "r", actor: "op", reason: "x", at: at(40) });
        await expectDue(at(600), [other.entryId], []);
        const withdrawn = await ledger.withdrawRestore(other.entryId, { owner: "r", at: at(45) });
        expect(withdrawn).toMatchObject({ status: "disabled", nextAttemptAt: iso(600) });
        expect(withdrawn.restoring).toBeUndefined();
        await expectDue(at(600), [other.entryId], [other.entryId]);
      });
    });
  });
}

/** Manual accounts (issue 17): a person is asked to delete the key; then it is revoked. */
export function revocationLedgerManualContract(target: PortTarget<RevocationLedger>): void {
  describe(`RevocationLedger awaiting-operator (${target.name})`, () => {
    let ledger: RevocationLedger;
    beforeEach(() => {
      ledger = target.make();
    });
    const { entryAt, expectDue } = ledgerHelpers(target, () => ledger);

    it("pending → awaiting-operator: off the sweep, one attempt, needs an operator; idempotent", async () => {
      const entry = entryAt(T0, "manual");
      await ledger.openPending(entry);

      const awaiting = await ledger.markAwaitingOperator(entry.entryId, { at: at(30) });
      const again = await ledger.markAwaitingOperator(entry.entryId, { at: at(60) });

      expect(awaiting).toMatchObject({
        status: "awaiting-operator",
        attempts: 1,
        awaitingSince: iso(30),
        needsOperator: true,
      });
      expect(awaiting.nextAttemptAt).toBeUndefined();
      expect(again).toEqual(awaiting);
      await expectDue(at(99_999), [entry.entryId], []);
    });

    it("awaiting-operator → revoked, and never back", async () => {
      const entry = entryAt(T0, "manual-done");
      await ledger.openPending(entry);
      await ledger.markAwaitingOperator(entry.entryId, { at: at(30) });

      const revoked = await ledger.markRevoked(entry.entryId, at(90));

      expect(revoked).toMatchObject({ status: "revoked", revokedAt: iso(90) });
      expect(await ledger.markAwaitingOperator(entry.entryId, { at: at(120) })).toEqual(revoked);
    });

    it("is refused from disabled (two-stage keys are not manual) and needs the attempt's claim when one is live", async () => {
      const disabled = entryAt(T0, "manual-disabled");
      await ledger.openPending(disabled);
      await ledger.markDisabled(disabled.entryId, { at: at(10), removeAfter: at(600) });
      expect((await ledger.markAwaitingOperator(disabled.entryId, { at: at(20) })).status).toBe("disabled");

      const claimed = entryAt(T0, "manual-claimed");
      await ledger.openPending(claimed);
      await ledger.claim(
        claimed.entryId,
        { status: "pending", attempts: 0 },
        { owner: "a", at: at(1), until: at(900) },
      );
      expect((await ledger.markAwaitingOperator(claimed.entryId, { at: at(2), owner: "b" })).status).toBe(
        "pending",
      );
      expect((await ledger.markAwaitingOperator(claimed.entryId, { at: at(2), owner: "a" })).status).toBe(
        "awaiting-operator",
      );
    });
  });
}
