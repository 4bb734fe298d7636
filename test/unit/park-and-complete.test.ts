import { describe, expect, it } from "vitest";
import { ledgerEntryId } from "../../src/core/tokens";
import { completeRotation } from "../../src/core/use-cases/complete-rotation";
import { markStalled } from "../../src/core/use-cases/mark-stalled";
import { attemptRevocation, newLedgerEntry } from "../../src/core/use-cases/revocation";
import { makeDeps, seedSecret } from "./fakes";
import { rotateToPromoted } from "./support/flow";

/** A secret whose rotation `rot-1` has promoted its new key and now holds the lock. */
async function promoted() {
  const deps = makeDeps();
  const seeded = await seedSecret(deps);
  await rotateToPromoted(deps, seeded.secretId, "rot-1");
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
    const entryId = ledgerEntryId(seeded.account, seeded.keyId);
    const entry = await deps.ledger.openPending(
      newLedgerEntry(
        {
          secretId: seeded.secretId,
          exchangeAccount: seeded.account,
          keyId: seeded.keyId,
          versionId: seeded.versionId,
          rotationId: "rot-1",
        },
        entryId,
        deps.clock.now(),
      ),
    );
    await attemptRevocation(entry, "rotation:rot-1", deps);

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
