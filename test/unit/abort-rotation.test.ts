import { beforeEach, describe, expect, it } from "vitest";
import { ThrottlingException } from "../../harness/memory/faults";
import {
  ExchangePermanentError,
  ExchangeRetryableError,
  KeyVerificationFailedError,
  RotationInProgressError,
} from "../../src/core/errors";
import { STAGE } from "../../src/core/model";
import { abortRotation } from "../../src/core/rotation/abort-rotation";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import { createNext } from "../../src/core/rotation/create-next";
import { promoteCurrent } from "../../src/core/rotation/promote-current";
import { exchangeLabelFor, ledgerEntryId, versionTokenFor } from "../../src/core/tokens";
import { addConsumer, type FakeDeps, makeDeps, type SeededSecret, seedSecret } from "./fakes";
import { currentFingerprint, report, resumeRotation, startRotation } from "./support/flow";

describe("abortRotation", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  const rotationId = "rot-1";
  const ref = () => ({ secretId: seeded.secretId, rotationId });

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
    await startRotation(deps, seeded.secretId, rotationId);
  });

  it("removes AWSPENDING, revokes the new key through the ledger, releases the lock and records aborted", async () => {
    const created = await createNext(ref(), deps);

    const out = await abortRotation({ ...ref(), error: "States.Timeout" }, deps);

    expect(out).toMatchObject({
      outcome: "aborted",
      aborted: true,
      revokedKeyIds: [created.next.exchangeKeyId],
      pendingRevocations: [],
    });
    expect(await deps.secrets.listVersions(seeded.secretId)).toEqual([
      { versionId: seeded.versionId, stages: [STAGE.current] },
    ]);
    expect(deps.exchange.key(seeded.account, created.next.exchangeKeyId)).toBeUndefined();
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId]);
    expect(await deps.ledger.get(ledgerEntryId(seeded.account, created.next.exchangeKeyId))).toMatchObject({
      status: "revoked",
      versionId: created.next.versionId,
      rotationId,
    });
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
    expect(await deps.store.getRotation(seeded.secretId, rotationId)).toMatchObject({
      phase: "aborted",
      outcome: "States.Timeout",
    });
    expect((await deps.store.getVersions(seeded.secretId))?.next).toBeUndefined();
    expect(deps.audit.actions(seeded.secretId).at(-1)).toBe("rotation-aborted");
    expect(deps.alerts.kinds()).toEqual(["rotation-aborted"]);
  });

  it("never revokes the current key", async () => {
    await createNext(ref(), deps);

    await abortRotation({ ...ref(), error: "X" }, deps);

    expect(deps.exchange.callsTo("removeKey").map((c) => c.keyId)).not.toContain(seeded.keyId);
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("active");
  });

  it("revokes a key whose verification failed (never stored, found by its label)", async () => {
    deps.exchange.faults.failNext("verifyKey", 1, ExchangePermanentError, "HTTP 401");
    await expect(createNext(ref(), deps)).rejects.toBeInstanceOf(KeyVerificationFailedError);
    const [orphan] = deps.exchange.callsTo("createKey");
    const orphanId = deps.exchange.activeKeyIds(seeded.account).find((k) => k !== seeded.keyId);
    expect(orphan?.label).toBe(exchangeLabelFor(rotationId));

    const out = await abortRotation({ ...ref(), error: "KeyVerificationFailedError" }, deps);

    expect(out.revokedKeyIds).toEqual([orphanId]);
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId]);
    expect(await deps.ledger.get(ledgerEntryId(seeded.account, orphanId ?? ""))).toMatchObject({
      status: "revoked",
      versionId: "unstored",
    });
  });

  it("revokes an orphan whose PutSecretValue failed", async () => {
    deps.secrets.faults.failNext("putPending", 1, ThrottlingException);
    await expect(createNext(ref(), deps)).rejects.toThrow(ThrottlingException);

    const out = await abortRotation({ ...ref(), error: "ThrottlingException" }, deps);

    expect(out.revokedKeyIds).toHaveLength(1);
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId]);
    expect(deps.secrets.holder(seeded.secretId, STAGE.next)).toBeUndefined();
  });

  it("still aborts when the revocation fails, leaving the entry failed for the sweeper", async () => {
    const created = await createNext(ref(), deps);
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError, "HTTP 503");

    const out = await abortRotation({ ...ref(), error: "X" }, deps);

    expect(out).toMatchObject({
      outcome: "aborted",
      aborted: true,
      revokedKeyIds: [],
      pendingRevocations: [created.next.exchangeKeyId],
    });
    expect(await deps.ledger.get(ledgerEntryId(seeded.account, created.next.exchangeKeyId))).toMatchObject({
      status: "failed",
      attempts: 1,
    });
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
    expect(deps.secrets.holder(seeded.secretId, STAGE.next)).toBeUndefined();
  });

  it("aborts cleanly when nothing was created (key limit): releases the lock, revokes nothing", async () => {
    deps.exchange.seedKey(seeded.account, { label: "manual", permissions: [] });
    await expect(createNext(ref(), deps)).rejects.toThrow();

    const out = await abortRotation({ ...ref(), error: "ExchangeKeyLimitError" }, deps);

    expect(out).toMatchObject({
      outcome: "aborted",
      aborted: true,
      revokedKeyIds: [],
      pendingRevocations: [],
    });
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
  });

  it("returns aborted:false and revokes nothing once promotion happened", async () => {
    const created = await createNext(ref(), deps);
    await promoteCurrent(ref(), deps);
    const labels = deps.secrets.dump(seeded.secretId);

    const out = await abortRotation({ ...ref(), error: "Lambda.Unknown" }, deps);

    expect(out).toMatchObject({
      outcome: "promoted",
      aborted: false,
      revokedKeyIds: [],
      pendingRevocations: [],
    });
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
    expect(await deps.ledger.listAll()).toEqual([]);
    expect(deps.secrets.dump(seeded.secretId)).toBe(labels);
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId, created.next.exchangeKeyId]);
    expect((await deps.lock.get(seeded.secretId))?.rotationId).toBe(rotationId);
    expect((await deps.store.getRotation(seeded.secretId, rotationId))?.phase).toBe("promoted");
    expect(deps.alerts.sent).toEqual([]);
  });

  it("after a promotion that crashed past the label move, leaves the wait gating on the new current", async () => {
    // PromoteCurrent moved AWSCURRENT, then failed removing AWSPENDING: the ASL catches into AbortRotation.
    const engine = await addConsumer(deps, seeded.secretId, "engine");
    const created = await createNext(ref(), deps);
    deps.secrets.faults.failAfter("moveStage", 1, 1, ThrottlingException, "Rate exceeded");
    await expect(promoteCurrent(ref(), deps)).rejects.toThrow("Rate exceeded");

    const out = await abortRotation({ ...ref(), error: "ThrottlingException" }, deps);
    expect(out.aborted).toBe(false);
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(created.next.versionId);

    // The workflow now waits for consumers: it must wait for the key that is actually AWSCURRENT.
    expect((await deps.store.getVersions(seeded.secretId))?.current).toEqual(created.next);
    expect((await deps.store.getRotation(seeded.secretId, rotationId))?.previous).toEqual(created.current);
    deps.clock.advance(3600);
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    const check = await checkConsumers({ ...ref(), iteration: 0 }, deps);
    expect(check.currentFingerprint).toBe(await currentFingerprint(deps, seeded.secretId));
    expect(check.ready).toBe(false);
  });

  it("does nothing once a resume drives the rotation: the old execution is fenced out", async () => {
    // rot-1's execution stopped renewing its lease; a new rotation found it and stalled it; an
    // operator resumed it in execution exec-2. Then the old execution's abort arrives, late.
    await createNext(ref(), deps);
    deps.clock.advance(90_001);
    await expect(startRotation(deps, seeded.secretId, "rot-2")).rejects.toBeInstanceOf(
      RotationInProgressError,
    );
    await resumeRotation(deps, seeded.secretId, "exec-2");
    const labels = deps.secrets.dump(seeded.secretId);

    const out = await abortRotation({ ...ref(), execution: rotationId, error: "States.Timeout" }, deps);

    expect(out.outcome).toBe("nothing");
    expect(deps.secrets.dump(seeded.secretId)).toBe(labels);
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({
      rotationId,
      execution: "exec-2",
      stalled: false,
    });
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
  });

  it("on a manual account, hands a provided key not yet recorded as next to a person (its verification's answer was lost)", async () => {
    // Found by the simulation (seed 33, issue 20's branch): `keys provide` stored the person's key
    // under the rotation's token, CreateNext's verification lost its answer, and the abort removed
    // AWSPENDING without revoking the key or asking anyone to delete it: an orphan on the exchange.
    deps.exchange.addManualAccount(seeded.account);
    const made = deps.exchange.webCreateKey(seeded.account, { label: "made by a person", permissions: [] });
    await deps.secrets.putPending(
      seeded.secretId,
      versionTokenFor(rotationId),
      JSON.stringify({ account: seeded.account, keyId: made.keyId, secret: made.secret, permissions: [] }),
    );

    const out = await abortRotation({ ...ref(), error: "KeyVerificationFailedError" }, deps);

    expect(out).toMatchObject({ outcome: "aborted", pendingRevocations: [made.keyId] });
    expect(await deps.ledger.get(ledgerEntryId(seeded.account, made.keyId))).toMatchObject({
      status: "awaiting-operator",
      versionId: versionTokenFor(rotationId),
    });
    expect(deps.alerts.kinds()).toContain("manual-step");
  });
});
