/**
 * Regression tests for the proven breaks of the safety review (issue 7), each named after its
 * break. Every one of them failed on the code before the fix.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { awsError } from "../../harness/memory/faults";
import {
  ConsumersNotReadyError,
  ExchangeRetryableError,
  OperatorActionRejectedError,
  RevocationFailedError,
  RevocationRefusedError,
} from "../../src/core/errors";
import { STAGE } from "../../src/core/model";
import { enrollSecret, forceRevoke, rollback } from "../../src/core/operator/operator";
import { retryRevocations } from "../../src/core/revocation/retry";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { abortRotation } from "../../src/core/rotation/abort-rotation";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import { createNext } from "../../src/core/rotation/create-next";
import { markStalled } from "../../src/core/rotation/mark-stalled";
import { promoteCurrent } from "../../src/core/rotation/promote-current";
import { ledgerEntryId } from "../../src/core/tokens";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
  TINY_OVERLAP,
} from "./fakes";
import { report, resumeRotation, rotateToPromoted, startRotation } from "./support/flow";

const OPERATOR = { actor: "operator:alice", reason: "engine cannot reload" };

describe("safety breaks", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  let promoted: Awaited<ReturnType<typeof rotateToPromoted>>;
  const rotationId = "rot-1";
  const ref = { rotationId, execution: rotationId };

  beforeEach(async () => {
    deps = makeDeps({ revocation: { baseSeconds: 60, capSeconds: 600, maxAttempts: 10 } });
    seeded = await seedSecret(deps, { settings: TINY_OVERLAP });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    promoted = await rotateToPromoted(deps, seeded.secretId, rotationId);
    deps.clock.advance(1); // past the (one-second) overlap
  });

  async function stall(execution = rotationId): Promise<void> {
    const check = await checkConsumers(
      { secretId: seeded.secretId, rotationId, execution, iteration: 0 },
      deps,
    );
    await markStalled({ secretId: seeded.secretId, rotationId, execution, ...check }, deps);
  }

  it("break 2: a rollback interrupted half-way blocks resume, finishes on re-run, and the current key is never revoked", async () => {
    await stall();
    // Rollback dies after rewriting the versions record (before the rotation record).
    // (Its writes to the rotation record are fenced since issue 14: the 2nd one is the final record.)
    let puts = 0;
    const realPut = deps.store.putRotationFenced.bind(deps.store);
    deps.store.putRotationFenced = async (r) => {
      puts += 1;
      if (puts === 2) throw awsError("InternalServerError", "crashed between writes");
      return realPut(r);
    };
    await expect(rollback({ secretId: seeded.secretId, ...OPERATOR }, deps)).rejects.toThrow(/crashed/);
    deps.store.putRotationFenced = realPut;
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(seeded.versionId);

    await expect(resumeRotation(deps, seeded.secretId, "x1")).rejects.toThrow(/unfinished rollback/);
    await expect(forceRevoke({ secretId: seeded.secretId, ...OPERATOR }, deps)).rejects.toThrow(
      /unfinished rollback/,
    );
    const done = await rollback({ secretId: seeded.secretId, ...OPERATOR }, deps);
    expect(done.abandonedKeyId).toBe(promoted.created.next.exchangeKeyId);
    await resumeRotation(deps, seeded.secretId, "x2");
    deps.clock.advance(120);
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);

    const out = await revokePrevious({ secretId: seeded.secretId, rotationId, execution: "x2" }, deps);

    expect(out.keyId).toBe(promoted.created.next.exchangeKeyId);
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId]);
  });

  it("break 2: RevokePrevious refuses when the rotation's previous key is the current one again", async () => {
    // The rotation record still names the old key as previous, but the versions record says it is current.
    await deps.store.putVersions({
      secretId: seeded.secretId,
      promotedAt: deps.clock.now().toISOString(),
      updatedAt: deps.clock.now().toISOString(),
      current: promoted.promoted.previous,
      previous: promoted.promoted.current,
    });

    await expect(revokePrevious({ secretId: seeded.secretId, ...ref }, deps)).rejects.toBeInstanceOf(
      RevocationRefusedError,
    );
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
    expect(deps.exchange.activeKeyIds(seeded.account)).toContain(seeded.keyId);
  });

  it("break 3: the sweeper does not revoke while an instance is back on the old key; it holds the entry and revokes once ready", async () => {
    await report(deps, seeded.secretId, engine, "e1", promoted.created.next.fingerprint);
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError);
    await expect(revokePrevious({ secretId: seeded.secretId, ...ref }, deps)).rejects.toBeInstanceOf(
      RevocationFailedError,
    );
    // An instance comes back on the old key: the state's retry re-checks the gate and goes back to waiting.
    await report(deps, seeded.secretId, engine, "e2", seeded.fingerprint);
    await expect(revokePrevious({ secretId: seeded.secretId, ...ref }, deps)).rejects.toBeInstanceOf(
      ConsumersNotReadyError,
    );
    deps.clock.advance(60);
    await report(deps, seeded.secretId, engine, "e2", seeded.fingerprint);
    await report(deps, seeded.secretId, engine, "e1", promoted.created.next.fingerprint);

    const swept = await retryRevocations({ limit: 10 }, deps);

    expect(swept).toMatchObject({ due: 1, held: 1, revoked: 0 });
    expect(deps.exchange.activeKeyIds(seeded.account)).toContain(seeded.keyId);
    const entry = await deps.ledger.get(ledgerEntryId(seeded.account, seeded.keyId));
    expect(entry).toMatchObject({ status: "failed", attempts: 1 });
    expect(entry?.heldReason).toMatch(/waiting for consumers/);
    expect(deps.audit.actions(seeded.secretId)).toContain("revocation-held");

    await report(deps, seeded.secretId, engine, "e2", promoted.created.next.fingerprint);
    deps.clock.set(entry?.nextAttemptAt ?? "");
    await report(deps, seeded.secretId, engine, "e1", promoted.created.next.fingerprint);
    await report(deps, seeded.secretId, engine, "e2", promoted.created.next.fingerprint);
    expect(await retryRevocations({ limit: 10 }, deps)).toMatchObject({ revoked: 1 });
    expect(deps.exchange.activeKeyIds(seeded.account)).not.toContain(seeded.keyId);
  });

  it("break 4: rollback and force-revoke cannot interleave; the one that loses is refused and changes nothing", async () => {
    await stall();
    // Force-revoke holds the rotation (it is between its audit entry and its exchange call)...
    let raced: unknown;
    deps.exchange.before.removeKey = async () => {
      deps.exchange.before.removeKey = undefined;
      raced = await rollback({ secretId: seeded.secretId, ...OPERATOR }, deps).catch((e: unknown) => e);
    };

    const out = await forceRevoke({ secretId: seeded.secretId, ...OPERATOR }, deps);

    expect(raced).toBeInstanceOf(OperatorActionRejectedError);
    expect((raced as Error).message).toMatch(/cannot rollback .*operator command/);
    expect(out.ledger).toBe("revoked");
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(promoted.created.next.versionId);
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([promoted.created.next.exchangeKeyId]);
    await expect(rollback({ secretId: seeded.secretId, ...OPERATOR }, deps)).rejects.toBeInstanceOf(
      OperatorActionRejectedError,
    );
  });

  it("break 4: force-revoke after a rollback moved the label revokes the abandoned key, never the current one", async () => {
    await stall();
    await rollback({ secretId: seeded.secretId, ...OPERATOR }, deps);

    const out = await forceRevoke({ secretId: seeded.secretId, ...OPERATOR }, deps);

    expect(out.keyId).toBe(promoted.created.next.exchangeKeyId);
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(seeded.versionId);
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId]);
  });

  it("I1: a ledger entry for the current key is never revoked, by the sweeper or by break-glass", async () => {
    await stall();
    const current = promoted.created.next;
    await deps.ledger.openPending({
      entryId: ledgerEntryId(seeded.account, current.exchangeKeyId),
      secretId: seeded.secretId,
      exchangeAccount: seeded.account,
      keyId: current.exchangeKeyId,
      versionId: current.versionId,
      rotationId,
      kind: "previous",
      breakGlass: { actor: "operator:mallory", reason: "oops", at: deps.clock.now().toISOString() },
      status: "pending",
      attempts: 0,
      needsOperator: false,
      createdAt: deps.clock.now().toISOString(),
      updatedAt: deps.clock.now().toISOString(),
      nextAttemptAt: deps.clock.now().toISOString(),
    });

    const swept = await retryRevocations({ limit: 10 }, deps);

    expect(swept).toMatchObject({ held: 1, revoked: 0 });
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
    expect(deps.alerts.kinds()).toContain("revocation-refused");
  });

  it("found by the simulation: a re-enrollment never puts the old key back in the versions record", async () => {
    // The operator's re-enroll read the labels just before PromoteCurrent moved them.
    const settings = await deps.store.getSettings(seeded.secretId);
    const { enrolledAt: _e, ...rest } = settings as NonNullable<typeof settings>;
    const labelsBefore = deps.secrets.listVersions.bind(deps.secrets);
    const stale = await labelsBefore(seeded.secretId);
    deps.secrets.listVersions = async () =>
      stale.map((v) => ({
        ...v,
        stages:
          v.versionId === seeded.versionId ? [STAGE.current] : v.stages.filter((x) => x !== STAGE.current),
      }));

    // (an overlap that covers the registered consumer's 300 s cache TTL, or enrollment refuses)
    await enrollSecret({ ...rest, deadlineSeconds: 3600, minOverlapSeconds: 300 }, "operator:bob", deps);

    expect((await deps.store.getVersions(seeded.secretId))?.current?.exchangeKeyId).toBe(
      promoted.created.next.exchangeKeyId,
    );
  });
});

describe("found by the simulation: a promotion interrupted after its label move", () => {
  it("rolls forward through stall and resume; the new current key is never taken for an orphan", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps, { settings: TINY_OVERLAP });
    await startRotation(deps, seeded.secretId, "rot-1");
    const created = await createNext({ secretId: seeded.secretId, rotationId: "rot-1" }, deps);
    // PromoteCurrent moves the labels, then dies before its bookkeeping, for good.
    deps.store.putVersions = async () => {
      throw awsError("InternalServerError", "crashed after the label move");
    };
    const realPutVersions = Object.getPrototypeOf(deps.store).putVersions.bind(deps.store);
    await expect(promoteCurrent({ secretId: seeded.secretId, rotationId: "rot-1" }, deps)).rejects.toThrow(
      /crashed/,
    );
    deps.store.putVersions = realPutVersions;
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(created.next.versionId);
    await markStalled(
      { secretId: seeded.secretId, rotationId: "rot-1", lagging: [], laggingCount: 0, error: "AbortFailed" },
      deps,
    );
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.phase).toBe("promoting");

    const resumed = await resumeRotation(deps, seeded.secretId, "x1");
    const again = await createNext({ secretId: seeded.secretId, rotationId: "rot-1", execution: "x1" }, deps);
    const promoted = await promoteCurrent(
      { secretId: seeded.secretId, rotationId: "rot-1", execution: "x1" },
      deps,
    );

    expect(resumed.route).toBe("create");
    expect(again.next.exchangeKeyId).toBe(created.next.exchangeKeyId);
    expect(promoted.current.exchangeKeyId).toBe(created.next.exchangeKeyId);
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
    expect(deps.exchange.callsTo("createKey")).toHaveLength(1);
  });
});

describe("found by the simulation: a promotion whose retry reads lagging labels", () => {
  it("a retried PromoteCurrent after the record says promoted neither re-checks the labels nor aborts", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps, { settings: TINY_OVERLAP });
    const promoted = await rotateToPromoted(deps, seeded.secretId, "rot-1");
    // The listing now lags: it shows the labels from before the promotion (the new version absent).
    const lagging = [{ versionId: seeded.versionId, stages: [STAGE.current] }];
    deps.secrets.listVersions = async () => lagging;

    const again = await promoteCurrent({ secretId: seeded.secretId, rotationId: "rot-1" }, deps);
    const abort = await abortRotation(
      { secretId: seeded.secretId, rotationId: "rot-1", error: "Lambda.Unknown" },
      deps,
    );

    expect(again.current.exchangeKeyId).toBe(promoted.created.next.exchangeKeyId);
    expect(abort.outcome).toBe("promoted");
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.phase).toBe("promoted");
    expect(await deps.ledger.listAll()).toEqual([]);
    expect(deps.exchange.activeKeyIds(seeded.account)).toHaveLength(2);
  });
});

describe("found by the simulation: an abort that removed AWSPENDING, then died before revoking", () => {
  it("the resumed CreateNext revokes that key through the ledger before it would make another, never a third key", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps, { maxActiveKeys: 3, settings: TINY_OVERLAP });
    await startRotation(deps, seeded.secretId, "rot-1");
    const created = await createNext({ secretId: seeded.secretId, rotationId: "rot-1" }, deps);
    // The abort removed AWSPENDING, then died before clearing the record and revoking the key.
    await deps.secrets.moveStage(seeded.secretId, STAGE.next, { from: created.next.versionId });
    await markStalled(
      { secretId: seeded.secretId, rotationId: "rot-1", lagging: [], laggingCount: 0, error: "AbortFailed" },
      deps,
    );
    await resumeRotation(deps, seeded.secretId, "x1");

    const err = await createNext(
      { secretId: seeded.secretId, rotationId: "rot-1", execution: "x1" },
      deps,
    ).catch((e: unknown) => e);

    // The versions record still names it next, so the guard holds it: no new key meanwhile.
    expect(err).toBeInstanceOf(ExchangeRetryableError);
    expect(deps.exchange.callsTo("createKey")).toHaveLength(1);
    expect(deps.exchange.activeKeyIds(seeded.account)).toHaveLength(2);
    // The abort clears the record first, then revokes it.
    const abort = await abortRotation(
      { secretId: seeded.secretId, rotationId: "rot-1", execution: "x1", error: "ExchangeRetryableError" },
      deps,
    );
    expect(abort).toMatchObject({ outcome: "aborted", revokedKeyIds: [created.next.exchangeKeyId] });
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId]);
  });
});
