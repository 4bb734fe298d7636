/**
 * Read settings, gate and records once per invocation (the product/harness issue): counts the reads
 * one RevokePrevious makes on the in-memory store. Two reads are deliberate and stay (I1: the
 * revocation guard decides on reads taken right before the exchange call): the versions record (the
 * guard's label check) and the gate (consumers and instances). RevokePrevious's own earlier reads
 * of both decide before anything is written (not ready → back to waiting, no ledger entry).
 * Everything else — settings, the rotation record, the ledger entry just opened — is read once.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { addConsumer, type FakeDeps, makeDeps, type SeededConsumer, seedSecret, TWO_STAGE } from "./fakes";
import { currentFingerprint, report, rotateToPromoted } from "./support/flow";

describe("reads of one RevokePrevious invocation", () => {
  let deps: FakeDeps;
  let secretId: string;
  let engine: SeededConsumer;
  const rotationId = "rot-1";

  /** Counts calls of the reads this test is about, from here on. */
  function countReads() {
    return {
      getSettings: vi.spyOn(deps.store, "getSettings"),
      getRotation: vi.spyOn(deps.store, "getRotation"),
      getVersions: vi.spyOn(deps.store, "getVersions"),
      // Each gate evaluation lists the secret's instances exactly once (`readinessOf`).
      gate: vi.spyOn(deps.consumers, "listInstances"),
      ledgerGet: vi.spyOn(deps.ledger, "get"),
    };
  }
  const counts = (spies: ReturnType<typeof countReads>) =>
    Object.fromEntries(Object.entries(spies).map(([k, s]) => [k, s.mock.calls.length]));

  async function promotedAndConfirmed() {
    await rotateToPromoted(deps, secretId, rotationId);
    deps.clock.advance(600);
    await report(deps, secretId, engine, "e1", await currentFingerprint(deps, secretId));
  }

  beforeEach(async () => {
    deps = makeDeps();
  });

  async function seed(opts: { twoStage?: boolean } = {}) {
    if (opts.twoStage) deps.exchange.capabilitiesValue = { ...TWO_STAGE };
    const seeded = await seedSecret(deps, {
      maxActiveKeys: 3,
      settings: opts.twoStage ? { removeAfterSeconds: 3600 } : {},
    });
    secretId = seeded.secretId;
    engine = await addConsumer(deps, secretId, "engine");
    await report(deps, secretId, engine, "e1", seeded.fingerprint);
  }

  it("removing the previous key (one stage): settings and the record once, the gate and versions twice on purpose", async () => {
    await seed();
    await promotedAndConfirmed();
    const spies = countReads();

    expect((await revokePrevious({ secretId, rotationId }, deps)).status).toBe("revoked");

    expect(counts(spies)).toEqual({ getSettings: 1, getRotation: 1, getVersions: 2, gate: 2, ledgerGet: 0 });
  });

  it("disabling the previous key (two stages): the grace comes from the settings already read", async () => {
    await seed({ twoStage: true });
    await promotedAndConfirmed();
    const spies = countReads();

    expect((await revokePrevious({ secretId, rotationId }, deps)).status).toBe("disabled");

    expect(counts(spies)).toEqual({ getSettings: 1, getRotation: 1, getVersions: 2, gate: 2, ledgerGet: 0 });
  });

  it("not ready: one read of each, nothing else", async () => {
    await seed();
    await rotateToPromoted(deps, secretId, rotationId);
    const spies = countReads();

    await expect(revokePrevious({ secretId, rotationId }, deps)).rejects.toThrow(/lagging/);

    expect(counts(spies)).toEqual({ getSettings: 1, getRotation: 1, getVersions: 1, gate: 1, ledgerGet: 0 });
  });
});
