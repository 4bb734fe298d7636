import { describe, expect, it } from "vitest";
import { ExchangeRetryableError, RotationStateError } from "../../src/core/errors";
import type { RotationRecord } from "../../src/core/model";
import { attemptRevocation, newLedgerEntry } from "../../src/core/revocation/through-ledger";
import { completeRotation } from "../../src/core/rotation/complete-rotation";
import { markStalled } from "../../src/core/rotation/mark-stalled";
import { ledgerEntryId } from "../../src/core/tokens";
import { type FakeDeps, makeDeps, type SeededSecret, seedSecret, TINY_OVERLAP } from "./fakes";
import { rotateToPromoted, startRotation } from "./support/flow";

/** A secret whose rotation `rot-1` has promoted its new key and now holds the lock. */
async function promoted() {
  const deps = makeDeps();
  const seeded = await seedSecret(deps, { settings: TINY_OVERLAP });
  await rotateToPromoted(deps, seeded.secretId, "rot-1");
  deps.clock.advance(1); // past the (one-second) overlap
  return { deps, seeded };
}

describe("parking a rotation after an unexpected error", () => {
  it("stalls the lock, records the error, alerts, and revokes nothing", async () => {
    const { deps, seeded } = await promoted();

    const out = await markStalled(
      {
        secretId: seeded.secretId,
        rotationId: "rot-1",
        lagging: [],
        laggingCount: 0,
        error: "Lambda.Unknown",
      },
      deps,
    );

    expect(out.stalled).toBe(true);
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "rot-1", stalled: true });
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.phase).toBe("stalled");
    expect(deps.alerts.sent[0]?.subject).toContain("Lambda.Unknown");
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
  });

  it("leaves a completed rotation alone", async () => {
    const { deps, seeded } = await promoted();
    await revokeOld(deps, seeded);
    await completeRotation({ secretId: seeded.secretId, rotationId: "rot-1", outcome: "revoked" }, deps);

    const out = await markStalled(
      {
        secretId: seeded.secretId,
        rotationId: "rot-1",
        lagging: [],
        laggingCount: 0,
        error: "Lambda.Unknown",
      },
      deps,
    );

    expect(out.stalled).toBe(false);
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
    expect(deps.alerts.kinds()).not.toContain("rotation-stalled");
  });
});

describe("completing a rotation whose revocation was handed over", () => {
  it("reports revoked (and sends no failure alert) when the ledger shows the key revoked", async () => {
    const { deps, seeded } = await promoted();
    await revokeOld(deps, seeded);

    const out = await completeRotation(
      {
        secretId: seeded.secretId,
        rotationId: "rot-1",
        outcome: "revocation-deferred",
        error: "Lambda.Unknown",
      },
      deps,
    );

    expect(out.outcome).toBe("revoked");
    expect(deps.alerts.kinds()).not.toContain("revocation-failed");
  });

  it("alerts revocation-failed when the ledger entry is still failed", async () => {
    const { deps, seeded } = await promoted();
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError);
    await revokeOld(deps, seeded);
    expect((await deps.ledger.get(ledgerEntryId(seeded.account, seeded.keyId)))?.status).toBe("failed");

    const out = await completeRotation(
      {
        secretId: seeded.secretId,
        rotationId: "rot-1",
        outcome: "revocation-deferred",
        error: "RevocationFailedError",
      },
      deps,
    );

    expect(out.outcome).toBe("revocation-deferred");
    expect(deps.alerts.kinds()).toContain("revocation-failed");
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
  });
});

describe("break 1: handover without a ledger entry", () => {
  it("refuses to complete a deferred revocation that the ledger does not hold, keeping the lock", async () => {
    const { deps, seeded } = await promoted();

    const err = await completeRotation(
      {
        secretId: seeded.secretId,
        rotationId: "rot-1",
        outcome: "revocation-deferred",
        error: "States.Timeout",
      },
      deps,
    ).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(RotationStateError);
    expect((err as Error).message).toMatch(/no ledger entry/);
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "rot-1" });
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.phase).not.toBe("completed");
    expect(deps.alerts.kinds()).not.toContain("revocation-failed");
  });

  it("refuses to record `revoked` when the ledger says otherwise", async () => {
    const { deps, seeded } = await promoted();
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError);
    await revokeOld(deps, seeded);

    await expect(
      completeRotation({ secretId: seeded.secretId, rotationId: "rot-1", outcome: "revoked" }, deps),
    ).rejects.toBeInstanceOf(RotationStateError);
  });
});

describe("break 9: a crash inside CompleteRotation after the phase was written", () => {
  it("a lock left by a completed rotation is released by the next rotation, which proceeds", async () => {
    const { deps, seeded } = await promoted();
    await revokeOld(deps, seeded);
    // CompleteRotation wrote `completed`, then died before releasing the lock (and was not retried).
    const rotation = await deps.store.getRotation(seeded.secretId, "rot-1");
    await deps.store.putRotation({ ...(rotation as RotationRecord), phase: "completed", outcome: "revoked" });

    const begun = await startRotation(deps, seeded.secretId, "rot-2");

    expect(begun.rotationId).toBe("rot-2");
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "rot-2" });
    expect(deps.audit.actions(seeded.secretId)).toContain("lock-released-after-finish");
  });

  it("ParkRotation after a completed rotation releases its lock instead of leaving it held", async () => {
    const { deps, seeded } = await promoted();
    await revokeOld(deps, seeded);
    const rotation = await deps.store.getRotation(seeded.secretId, "rot-1");
    await deps.store.putRotation({ ...(rotation as RotationRecord), phase: "completed", outcome: "revoked" });

    const out = await markStalled(
      {
        secretId: seeded.secretId,
        rotationId: "rot-1",
        lagging: [],
        laggingCount: 0,
        error: "Lambda.Unknown",
      },
      deps,
    );

    expect(out.stalled).toBe(false);
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
  });
});

/** RevokePrevious's ledger work for the rotation's previous key (the seeded one). */
async function revokeOld(deps: FakeDeps, seeded: SeededSecret) {
  const entry = await deps.ledger.openPending(
    newLedgerEntry(
      {
        secretId: seeded.secretId,
        exchangeAccount: seeded.account,
        keyId: seeded.keyId,
        versionId: seeded.versionId,
        rotationId: "rot-1",
        kind: "previous",
      },
      ledgerEntryId(seeded.account, seeded.keyId),
      deps.clock.now(),
    ),
  );
  return attemptRevocation(entry, "rotation:rot-1", deps);
}
