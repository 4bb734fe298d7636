/**
 * The `RevocationLedger` port's first-stage transitions (I5: an entry exists before any exchange
 * call; transitions only move forward, `revoked` is final): open, revoked, failed, held, break-glass,
 * requeue, and the sparse sweep index (`listDue`, paginated, oldest first).
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { LedgerEntry, LedgerStatus } from "../../../src/core/model";
import type { RevocationLedger } from "../../../src/core/ports";
import { ledgerHelpers } from "./ledger-support";
import { at, iso, type PortTarget, refusal, T0 } from "./support";

export function revocationLedgerContract(target: PortTarget<RevocationLedger>): void {
  describe(`RevocationLedger (${target.name})`, () => {
    let ledger: RevocationLedger;
    beforeEach(() => {
      ledger = target.make();
    });
    const { entryAt, dueAmong, expectDue } = ledgerHelpers(target, () => ledger);

    describe("openPending", () => {
      it("creates the pending entry, due at its nextAttemptAt on the sparse index", async () => {
        const entry = entryAt(T0, "open");

        const opened = await ledger.openPending(entry);

        expect(opened).toEqual(entry);
        expect(await ledger.get(entry.entryId)).toEqual(entry);
        await expectDue(at(299), [entry.entryId], []);
        await expectDue(at(300), [entry.entryId], [entry.entryId]);
      });

      it("never resets an existing entry: a second open returns it as it is (failed, revoked)", async () => {
        const failedEntry = entryAt(T0, "open-failed");
        const revokedEntry = entryAt(T0, "open-revoked");
        await ledger.openPending(failedEntry);
        await ledger.openPending(revokedEntry);
        const failed = await ledger.markFailed(failedEntry.entryId, {
          at: at(10),
          error: "HTTP 503",
          nextAttemptAt: at(600),
          needsOperator: false,
        });
        const revoked = await ledger.markRevoked(revokedEntry.entryId, at(10));

        const reopenedFailed = await ledger.openPending({
          ...entryAt(at(50), "x"),
          entryId: failedEntry.entryId,
        });
        const reopenedRevoked = await ledger.openPending({
          ...entryAt(at(50), "y"),
          entryId: revokedEntry.entryId,
        });

        expect(reopenedFailed).toEqual(failed);
        expect(reopenedRevoked).toEqual(revoked);
        expect(await ledger.get(failedEntry.entryId)).toEqual(failed);
        expect(await ledger.get(revokedEntry.entryId)).toEqual(revoked);
      });
    });

    describe("listBySecret", () => {
      it("lists one secret's entries, revoked ones included, and no other secret's", async () => {
        const secretId = target.id("by-secret");
        const mine = [entryAt(T0, "bs-a"), entryAt(at(1), "bs-b")].map((e) => ({ ...e, secretId }));
        const other = entryAt(T0, "bs-other");
        for (const e of [...mine, other]) await ledger.openPending(e);
        await ledger.markRevoked(mine[0]?.entryId ?? "", at(10));

        const listed = await ledger.listBySecret(secretId);

        expect(listed.map((e) => [e.entryId, e.status])).toEqual([
          [mine[0]?.entryId, "revoked"],
          [mine[1]?.entryId, "pending"],
        ]);
        expect(await ledger.listBySecret(target.id("nobody"))).toEqual([]);
      });
    });

    describe("listByStatus", () => {
      it("lists the entries in one status, whatever their secret, and none in another", async () => {
        const [a, b, c] = ["st-a", "st-b", "st-c"].map((label) => entryAt(T0, label));
        for (const e of [a, b, c]) await ledger.openPending(e as LedgerEntry);
        await ledger.markRevoked(b?.entryId ?? "", at(10));
        const ids = [a, b, c].map((e) => e?.entryId);
        const among = async (status: LedgerStatus) =>
          (await ledger.listByStatus(status)).map((e) => e.entryId).filter((id) => ids.includes(id));

        await target.eventually(async () => {
          expect((await among("pending")).sort()).toEqual([a?.entryId, c?.entryId].sort());
          expect(await among("revoked")).toEqual([b?.entryId]);
        });
        expect(await among("failed")).toEqual([]);
      });
    });

    describe("markRevoked", () => {
      it("pending → revoked: one attempt counted, due no more", async () => {
        const entry = entryAt(T0, "revoke-pending");
        await ledger.openPending(entry);

        const revoked = await ledger.markRevoked(entry.entryId, at(30));

        const { nextAttemptAt: _gone, ...rest } = entry;
        expect(revoked).toEqual({
          ...rest,
          status: "revoked",
          attempts: 1,
          revokedAt: iso(30),
          updatedAt: iso(30),
          needsOperator: false,
          reRetiredAt: iso(30),
        });
        expect(await ledger.get(entry.entryId)).toEqual(revoked);
        await expectDue(at(10_000), [entry.entryId], []);
      });

      it("failed (held, flagged) → revoked: counts on, clears the flag and the held reason", async () => {
        const entry = entryAt(T0, "revoke-failed");
        await ledger.openPending(entry);
        await ledger.markFailed(entry.entryId, {
          at: at(10),
          error: "HTTP 503",
          nextAttemptAt: at(60),
          needsOperator: false,
        });
        await ledger.hold(entry.entryId, {
          at: at(60),
          reason: "gate not ready",
          nextAttemptAt: undefined,
          needsOperator: true,
        });

        const revoked = await ledger.markRevoked(entry.entryId, at(90));

        expect(revoked).toMatchObject({
          status: "revoked",
          attempts: 2,
          needsOperator: false,
          revokedAt: iso(90),
        });
        expect(revoked.heldReason).toBeUndefined();
        expect(revoked.nextAttemptAt).toBeUndefined();
      });

      it("is idempotent and never leaves revoked: a second call returns the first revocation unchanged", async () => {
        const entry = entryAt(T0, "revoke-twice");
        await ledger.openPending(entry);
        const first = await ledger.markRevoked(entry.entryId, at(30));

        const second = await ledger.markRevoked(entry.entryId, at(60));

        expect(second).toEqual(first);
        expect(await ledger.get(entry.entryId)).toEqual(first);
      });

      it("on a missing entry is refused and creates nothing", async () => {
        const entryId = `acme#${target.id("revoke-missing")}`;

        await refusal(ledger.markRevoked(entryId, at(30)));

        expect(await ledger.get(entryId)).toBeUndefined();
      });
    });

    describe("markFailed", () => {
      it("pending → failed → failed: one more attempt each time, last error, next attempt on the index", async () => {
        const entry = entryAt(T0, "fail");
        await ledger.openPending(entry);

        const once = await ledger.markFailed(entry.entryId, {
          at: at(300),
          error: "HTTP 503",
          nextAttemptAt: at(360),
          needsOperator: false,
        });
        const twice = await ledger.markFailed(entry.entryId, {
          at: at(360),
          error: "timeout",
          nextAttemptAt: at(480),
          needsOperator: false,
        });

        expect(once).toMatchObject({
          status: "failed",
          attempts: 1,
          lastError: "HTTP 503",
          nextAttemptAt: iso(360),
        });
        expect(twice).toEqual({
          ...entry,
          status: "failed",
          attempts: 2,
          lastError: "timeout",
          nextAttemptAt: iso(480),
          needsOperator: false,
          updatedAt: iso(360),
          // The first attempt's time, kept: read only after a restore (the ledger model).
          reRetiredAt: iso(300),
        });
        expect(await ledger.get(entry.entryId)).toEqual(twice);
        await expectDue(at(479), [entry.entryId], []);
        await expectDue(at(480), [entry.entryId], [entry.entryId]);
      });

      it("for an operator with no next attempt: flagged and off the sweep index", async () => {
        const entry = entryAt(T0, "fail-operator");
        await ledger.openPending(entry);

        const flagged = await ledger.markFailed(entry.entryId, {
          at: at(300),
          error: "HTTP 401",
          nextAttemptAt: undefined,
          needsOperator: true,
        });

        expect(flagged).toMatchObject({ status: "failed", attempts: 1, needsOperator: true });
        expect(flagged.nextAttemptAt).toBeUndefined();
        await expectDue(at(10_000), [entry.entryId], []);
      });

      it("never un-revokes: returns the revoked entry unchanged, no attempt counted", async () => {
        const entry = entryAt(T0, "fail-revoked");
        await ledger.openPending(entry);
        const revoked = await ledger.markRevoked(entry.entryId, at(30));

        const after = await ledger.markFailed(entry.entryId, {
          at: at(60),
          error: "late failure",
          nextAttemptAt: at(120),
          needsOperator: true,
        });

        expect(after).toEqual(revoked);
        expect(await ledger.get(entry.entryId)).toEqual(revoked);
        await expectDue(at(10_000), [entry.entryId], []);
      });

      it("on a missing entry is refused and creates nothing", async () => {
        const entryId = `acme#${target.id("fail-missing")}`;

        await refusal(
          ledger.markFailed(entryId, { at: at(1), error: "x", nextAttemptAt: at(2), needsOperator: false }),
        );

        expect(await ledger.get(entryId)).toBeUndefined();
      });
    });

    describe("hold", () => {
      it("keeps status and attempts, records why, and moves the sweep index key to the next look", async () => {
        const entry = entryAt(T0, "hold");
        await ledger.openPending(entry);
        const failed = await ledger.markFailed(entry.entryId, {
          at: at(300),
          error: "HTTP 503",
          nextAttemptAt: at(360),
          needsOperator: false,
        });

        const held = await ledger.hold(entry.entryId, {
          at: at(360),
          reason: "gate not ready",
          nextAttemptAt: at(3600),
          needsOperator: false,
        });

        expect(held).toEqual({
          ...failed,
          heldReason: "gate not ready",
          nextAttemptAt: iso(3600),
          updatedAt: iso(360),
        });
        expect(await ledger.get(entry.entryId)).toEqual(held);
        await expectDue(at(3599), [entry.entryId], []);
        await expectDue(at(3600), [entry.entryId], [entry.entryId]);
      });

      it("keeps a pending entry pending with no attempt counted; a later real attempt clears the held reason", async () => {
        const entry = entryAt(T0, "hold-pending");
        await ledger.openPending(entry);

        const held = await ledger.hold(entry.entryId, {
          at: at(300),
          reason: "key is current again",
          nextAttemptAt: at(900),
          needsOperator: false,
        });
        const failed = await ledger.markFailed(entry.entryId, {
          at: at(900),
          error: "HTTP 503",
          nextAttemptAt: at(960),
          needsOperator: false,
        });

        expect(held).toMatchObject({ status: "pending", attempts: 0, heldReason: "key is current again" });
        expect(failed).toMatchObject({ status: "failed", attempts: 1 });
        expect(failed.heldReason).toBeUndefined();
      });

      it("for an operator with no next look: flagged and off the sweep index", async () => {
        const entry = entryAt(T0, "hold-operator");
        await ledger.openPending(entry);

        const held = await ledger.hold(entry.entryId, {
          at: at(300),
          reason: "records missing",
          nextAttemptAt: undefined,
          needsOperator: true,
        });

        expect(held).toMatchObject({ status: "pending", attempts: 0, needsOperator: true });
        expect(held.nextAttemptAt).toBeUndefined();
        await expectDue(at(10_000), [entry.entryId], []);
      });

      it("is refused once revoked: returns the revoked entry unchanged", async () => {
        const entry = entryAt(T0, "hold-revoked");
        await ledger.openPending(entry);
        const revoked = await ledger.markRevoked(entry.entryId, at(30));

        const after = await ledger.hold(entry.entryId, {
          at: at(60),
          reason: "gate not ready",
          nextAttemptAt: at(120),
          needsOperator: false,
        });

        expect(after).toEqual(revoked);
        expect(await ledger.get(entry.entryId)).toEqual(revoked);
        await expectDue(at(10_000), [entry.entryId], []);
      });
    });

    describe("recordBreakGlass", () => {
      it("records the first break-glass and keeps it when another is recorded", async () => {
        const entry = entryAt(T0, "break-glass");
        await ledger.openPending(entry);
        const first = { actor: "alice", reason: "consumer decommissioned", at: iso(60) };

        const recorded = await ledger.recordBreakGlass(entry.entryId, first);
        const again = await ledger.recordBreakGlass(entry.entryId, {
          actor: "bob",
          reason: "other",
          at: iso(120),
        });

        expect(recorded).toMatchObject({ status: "pending", attempts: 0, breakGlass: first });
        expect(again.breakGlass).toEqual(first);
        expect((await ledger.get(entry.entryId))?.breakGlass).toEqual(first);
      });

      it("is refused once revoked: returns the revoked entry unchanged", async () => {
        const entry = entryAt(T0, "break-glass-revoked");
        await ledger.openPending(entry);
        const revoked = await ledger.markRevoked(entry.entryId, at(30));

        const after = await ledger.recordBreakGlass(entry.entryId, {
          actor: "alice",
          reason: "late",
          at: iso(60),
        });

        expect(after).toEqual(revoked);
        expect(await ledger.get(entry.entryId)).toEqual(revoked);
      });
    });

    describe("requeue", () => {
      it("clears needsOperator and makes a flagged entry due now", async () => {
        const entry = entryAt(T0, "requeue");
        await ledger.openPending(entry);
        await ledger.markFailed(entry.entryId, {
          at: at(300),
          error: "HTTP 401",
          nextAttemptAt: undefined,
          needsOperator: true,
        });
        await expectDue(at(10_000), [entry.entryId], []);

        const requeued = await ledger.requeue(entry.entryId, at(4000));

        expect(requeued).toMatchObject({
          status: "failed",
          attempts: 1,
          needsOperator: false,
          nextAttemptAt: iso(4000),
          updatedAt: iso(4000),
        });
        expect(await ledger.get(entry.entryId)).toEqual(requeued);
        await expectDue(at(4000), [entry.entryId], [entry.entryId]);
      });

      it("is refused once revoked, and on a missing entry, changing and creating nothing", async () => {
        const entry = entryAt(T0, "requeue-revoked");
        const missing = `acme#${target.id("requeue-missing")}`;
        await ledger.openPending(entry);
        const revoked = await ledger.markRevoked(entry.entryId, at(30));

        const refused = await refusal(ledger.requeue(entry.entryId, at(60)));
        const refusedMissing = await refusal(ledger.requeue(missing, at(60)));

        // Named for the operator, never the SDK's "The conditional request failed".
        expect((refused as Error).name).toBe("OperatorActionRejectedError");
        expect((refused as Error).message).toMatch(/is already revoked: nothing to retry/);
        expect((refusedMissing as Error).name).toBe("InvalidInputError");
        expect((refusedMissing as Error).message).toMatch(/no ledger entry .*keyshift revocations list/);
        expect(await ledger.get(entry.entryId)).toEqual(revoked);
        expect(await ledger.get(missing)).toBeUndefined();
        await expectDue(at(10_000), [entry.entryId], []);
      });
    });

    describe("listDue", () => {
      // An era no other test writes to, so the shared sparse index holds only this test's entries there.
      const E0 = new Date("2001-01-01T00:00:00.000Z");
      const e = (seconds: number) => at(seconds, E0);

      it("lists only entries still to work on whose next attempt is due, oldest first, up to the limit", async () => {
        const open = async (label: string, now: Date) => {
          const entry = entryAt(now, label);
          await ledger.openPending(entry);
          return entry.entryId;
        };
        const dueFirst = await open("due-first", e(0)); // due e(300)
        const dueThird = await open("due-third", e(120)); // failed below: due e(500)
        const dueSecond = await open("due-second", e(60)); // due e(360)
        const revoked = await open("due-revoked", e(0));
        const flagged = await open("due-flagged", e(0));
        const later = await open("due-later", e(600)); // due e(900)
        await ledger.markFailed(dueThird, {
          at: e(420),
          error: "HTTP 503",
          nextAttemptAt: e(500),
          needsOperator: false,
        });
        await ledger.markRevoked(revoked, e(310));
        await ledger.markFailed(flagged, {
          at: e(310),
          error: "HTTP 401",
          nextAttemptAt: undefined,
          needsOperator: true,
        });
        const ids = [dueFirst, dueSecond, dueThird, revoked, flagged, later];

        const all = await target.eventually(async () => {
          const listed = await ledger.listDue(e(600), 1000);
          expect(listed.map((x) => x.entryId)).toEqual([dueFirst, dueSecond, dueThird]);
          return listed;
        });
        const limited = await ledger.listDue(e(600), 2);

        expect(limited.map((x) => x.entryId)).toEqual([dueFirst, dueSecond]);
        // Whole entries as `get` reads them: the index keys never leak out.
        for (const listed of all) {
          expect(listed).not.toHaveProperty("sweep");
          expect(listed).not.toHaveProperty("sweepAt");
          expect(listed).toEqual(await ledger.get(listed.entryId));
        }
        expect(await dueAmong(e(299), ids)).toEqual([]);
        expect(await dueAmong(e(900), ids)).toEqual([dueFirst, dueSecond, dueThird, later]);
      });
    });
  });
}
