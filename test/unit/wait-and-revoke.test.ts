import { beforeEach, describe, expect, it } from "vitest";
import { ConsumersNotReadyError, RotationInProgressError, RotationStateError } from "../../src/core/errors";
import { MAX_LAGGING_IN_STATE } from "../../src/core/revocation/readiness";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import { createNext } from "../../src/core/rotation/create-next";
import { markStalled } from "../../src/core/rotation/mark-stalled";
import { ledgerEntryId } from "../../src/core/tokens";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
} from "./fakes";
import { currentFingerprint, report, rotateToPromoted, startRotation } from "./support/flow";

describe("checkConsumers and the revocation gate", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  let gateway: SeededConsumer;
  let newFp: string;
  const rotationId = "rot-1";
  const ref = () => ({ secretId: seeded.secretId, rotationId });

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
    engine = await addConsumer(deps, seeded.secretId, "engine");
    gateway = await addConsumer(deps, seeded.secretId, "gateway");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    await report(deps, seeded.secretId, gateway, "g1", seeded.fingerprint);
    await rotateToPromoted(deps, seeded.secretId, rotationId);
    newFp = await currentFingerprint(deps, seeded.secretId);
  });

  it("fixes the deadline on the first check and keeps it after", async () => {
    const first = await checkConsumers({ ...ref(), iteration: 0 }, deps);
    deps.clock.advance(first.waitSeconds);
    const second = await checkConsumers({ ...ref(), iteration: first.iteration }, deps);

    expect(first.deadlineAt).toBe(new Date(Date.parse("2030-01-01T00:00:00Z") + 86_400_000).toISOString());
    expect(second.deadlineAt).toBe(first.deadlineAt);
    expect(second.iteration).toBe(2);
    expect(second.waitSeconds).toBeGreaterThan(first.waitSeconds);
    expect(first.currentFingerprint).toBe(newFp);
  });

  it("lists the consumers still on the previous key, and stays not-ready through the overlap", async () => {
    await report(deps, seeded.secretId, engine, "e1", newFp);

    const out = await checkConsumers({ ...ref(), iteration: 0 }, deps);

    expect(out.ready).toBe(false);
    expect(out.deadlinePassed).toBe(false);
    expect(out.lagging.map((l) => [l.consumerId, l.reason])).toEqual([["gateway", "on-other-fingerprint"]]);
    expect(out.overlapRemainingSeconds).toBe(300);
    expect(out.waitSeconds).toBe(30);
  });

  it("is ready once every consumer reports current and the overlap has passed", async () => {
    await report(deps, seeded.secretId, engine, "e1", newFp);
    await report(deps, seeded.secretId, gateway, "g1", newFp);
    expect((await checkConsumers({ ...ref(), iteration: 0 }, deps)).ready).toBe(false);
    deps.clock.advance(300);
    await report(deps, seeded.secretId, engine, "e1", newFp);
    await report(deps, seeded.secretId, gateway, "g1", newFp);

    const out = await checkConsumers({ ...ref(), iteration: 1 }, deps);

    expect(out).toMatchObject({
      ready: true,
      laggingCount: 0,
      overlapRemainingSeconds: 0,
      deadlinePassed: false,
    });
  });

  it("says the deadline passed when consumers still lag at the deadline, carrying a bounded list", async () => {
    for (let i = 0; i < MAX_LAGGING_IN_STATE + 5; i++)
      await addConsumer(deps, seeded.secretId, `silent-${i}`);
    const first = await checkConsumers({ ...ref(), iteration: 0 }, deps);
    deps.clock.set(first.deadlineAt);

    const out = await checkConsumers({ ...ref(), iteration: 50 }, deps);

    expect(out.deadlinePassed).toBe(true);
    expect(out.lagging).toHaveLength(MAX_LAGGING_IN_STATE);
    expect(out.laggingCount).toBe(MAX_LAGGING_IN_STATE + 7);
  });

  it("refuses a rotation that no longer holds the lock", async () => {
    await expect(
      checkConsumers({ secretId: seeded.secretId, rotationId: "other", iteration: 0 }, deps),
    ).rejects.toBeInstanceOf(RotationInProgressError);
  });

  it("revokePrevious throws ConsumersNotReadyError with no exchange call and no ledger entry while a consumer lags", async () => {
    await report(deps, seeded.secretId, engine, "e1", newFp);
    deps.clock.advance(600);
    await report(deps, seeded.secretId, engine, "e1", newFp);
    await report(deps, seeded.secretId, gateway, "g1", seeded.fingerprint);
    const callsBefore = deps.exchange.calls.length;

    await expect(revokePrevious(ref(), deps)).rejects.toBeInstanceOf(ConsumersNotReadyError);

    expect(deps.exchange.calls.length).toBe(callsBefore);
    expect(await deps.ledger.listAll()).toEqual([]);
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("active");
    expect((await deps.store.getRotation(seeded.secretId, rotationId))?.phase).toBe("promoted");
  });

  it("revokePrevious refuses while the overlap runs even with every consumer on current", async () => {
    await report(deps, seeded.secretId, engine, "e1", newFp);
    await report(deps, seeded.secretId, gateway, "g1", newFp);

    await expect(revokePrevious(ref(), deps)).rejects.toThrow(/300s of overlap left/);
    expect(deps.exchange.callsTo("removeKey")).toHaveLength(0);
  });

  it("revokePrevious treats a consumer gone silent as lagging", async () => {
    await report(deps, seeded.secretId, engine, "e1", newFp);
    await report(deps, seeded.secretId, gateway, "g1", newFp);
    deps.clock.advance(600);
    await report(deps, seeded.secretId, engine, "e1", newFp);

    await expect(revokePrevious(ref(), deps)).rejects.toThrow(/1 consumer\(s\) lagging/);
    expect(await deps.ledger.listAll()).toEqual([]);
  });

  it("revokePrevious revokes the previous key once every consumer is on current", async () => {
    deps.clock.advance(600);
    await report(deps, seeded.secretId, engine, "e1", newFp);
    await report(deps, seeded.secretId, gateway, "g1", newFp);

    const out = await revokePrevious(ref(), deps);

    const entryId = ledgerEntryId(seeded.account, seeded.keyId);
    expect(out).toEqual({ entryId, keyId: seeded.keyId, status: "revoked", attempts: 1 });
    expect(deps.exchange.callsTo("removeKey")).toEqual([
      { method: "removeKey", account: seeded.account, keyId: seeded.keyId },
    ]);
    expect(deps.exchange.key(seeded.account, seeded.keyId)).toBeUndefined();
    expect(await deps.ledger.get(entryId)).toMatchObject({
      status: "revoked",
      rotationId,
      versionId: seeded.versionId,
    });
    expect((await deps.store.getRotation(seeded.secretId, rotationId))?.phase).toBe("revoking");
  });

  it("revokePrevious is idempotent once revoked: no second exchange call", async () => {
    deps.clock.advance(600);
    await report(deps, seeded.secretId, engine, "e1", newFp);
    await report(deps, seeded.secretId, gateway, "g1", newFp);
    await revokePrevious(ref(), deps);

    const again = await revokePrevious(ref(), deps);

    expect(again.status).toBe("revoked");
    expect(deps.exchange.callsTo("removeKey")).toHaveLength(1);
  });
});

describe("before promotion", () => {
  it("checkConsumers refuses with RotationStateError instead of gating on the enrolled fingerprint", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    const engine = await addConsumer(deps, seeded.secretId, "engine");
    await startRotation(deps, seeded.secretId, "rot-1");
    await createNext({ secretId: seeded.secretId, rotationId: "rot-1" }, deps);
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);

    await expect(
      checkConsumers({ secretId: seeded.secretId, rotationId: "rot-1", iteration: 0 }, deps),
    ).rejects.toBeInstanceOf(RotationStateError);
  });

  it("revokePrevious refuses with RotationStateError and touches nothing", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    await startRotation(deps, seeded.secretId, "rot-1");

    await expect(
      revokePrevious({ secretId: seeded.secretId, rotationId: "rot-1" }, deps),
    ).rejects.toBeInstanceOf(RotationStateError);
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
    expect(await deps.ledger.listAll()).toEqual([]);
  });
});

describe("markStalled", () => {
  it("keeps the lock (stalled, never expiring), alerts, records stalled, and revokes nothing", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    await addConsumer(deps, seeded.secretId, "engine");
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const check = await checkConsumers(
      { secretId: seeded.secretId, rotationId: "rot-1", iteration: 0 },
      deps,
    );
    const callsBefore = deps.exchange.calls.length;

    const out = await markStalled(
      {
        secretId: seeded.secretId,
        rotationId: "rot-1",
        lagging: check.lagging,
        laggingCount: check.laggingCount,
        deadlineAt: check.deadlineAt,
      },
      deps,
    );

    expect(out).toEqual({ stalled: true, laggingCount: 1 });
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "rot-1", stalled: true });
    expect(Date.parse((await deps.lock.get(seeded.secretId))?.leaseExpiresAt ?? "")).toBeGreaterThan(
      Date.parse("9999-01-01T00:00:00Z"),
    );
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.phase).toBe("stalled");
    expect(deps.alerts.sent).toHaveLength(1);
    expect(deps.alerts.sent[0]).toMatchObject({
      kind: "rotation-stalled",
      secretId: seeded.secretId,
      details: { rotationId: "rot-1", laggingCount: 1, lagging: ["engine (no-live-instance)"] },
    });
    expect(deps.audit.actions(seeded.secretId).at(-1)).toBe("rotation-stalled");
    expect(deps.exchange.calls.length).toBe(callsBefore);
    expect(await deps.ledger.listAll()).toEqual([]);
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("active");
  });

  it("leaves alone a rotation that does not hold the lock (nothing stalled, nothing alerted)", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const auditBefore = deps.audit.actions(seeded.secretId);

    const out = await markStalled(
      { secretId: seeded.secretId, rotationId: "other", lagging: [], laggingCount: 0, deadlineAt: "x" },
      deps,
    );

    expect(out.stalled).toBe(false);
    expect(deps.audit.actions(seeded.secretId)).toEqual(auditBefore);
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "rot-1", stalled: false });
    expect(deps.alerts.sent).toEqual([]);
  });
});
