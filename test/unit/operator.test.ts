import { beforeEach, describe, expect, it } from "vitest";
import {
  ExchangeRetryableError,
  OperatorActionRejectedError,
  RevocationFailedError,
} from "../../src/core/errors";
import { STAGE } from "../../src/core/model";
import { forceRevoke, rollback } from "../../src/core/operator/operator";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { beginRotation } from "../../src/core/rotation/begin-rotation";
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
import { report, rotateToPromoted, startRotation } from "./support/flow";

const OPERATOR = { actor: "operator:alice", reason: "engine cannot reload" };

describe("operator actions on a promoted rotation", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  let promoted: Awaited<ReturnType<typeof rotateToPromoted>>;
  const rotationId = "rot-1";

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps);
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    promoted = await rotateToPromoted(deps, seeded.secretId, rotationId);
  });

  async function stall(): Promise<void> {
    const check = await checkConsumers({ secretId: seeded.secretId, rotationId, iteration: 0 }, deps);
    await markStalled({ secretId: seeded.secretId, rotationId, ...check }, deps);
  }

  it("refuses force-revoke and rollback while the rotation is running, and changes nothing", async () => {
    const labels = deps.secrets.dump(seeded.secretId);

    await expect(forceRevoke({ secretId: seeded.secretId, ...OPERATOR }, deps)).rejects.toBeInstanceOf(
      OperatorActionRejectedError,
    );
    await expect(rollback({ secretId: seeded.secretId, ...OPERATOR }, deps)).rejects.toThrow(/still running/);

    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
    expect(await deps.ledger.listAll()).toEqual([]);
    expect(deps.secrets.dump(seeded.secretId)).toBe(labels);
    expect((await deps.lock.get(seeded.secretId))?.rotationId).toBe(rotationId);
  });

  it("refuses both before promotion", async () => {
    const fresh = makeDeps();
    const s = await seedSecret(fresh);
    await startRotation(fresh, s.secretId, "r");
    await createNext({ secretId: s.secretId, rotationId: "r" }, fresh);
    await fresh.lock.markStalled(s.secretId, "r");

    await expect(forceRevoke({ secretId: s.secretId, ...OPERATOR }, fresh)).rejects.toThrow(
      /has not promoted/,
    );
    await expect(rollback({ secretId: s.secretId, ...OPERATOR }, fresh)).rejects.toThrow(/has not promoted/);
    expect(fresh.exchange.callsTo("removeKey")).toEqual([]);
  });

  it("force-revoke on a stalled rotation revokes the previous key despite lagging consumers and releases the lock", async () => {
    await stall();

    const out = await forceRevoke({ secretId: seeded.secretId, ...OPERATOR }, deps);

    expect(out).toMatchObject({ rotationId, keyId: seeded.keyId, ledger: "revoked" });
    expect(deps.exchange.key(seeded.account, seeded.keyId)).toBeUndefined();
    expect(await deps.ledger.get(ledgerEntryId(seeded.account, seeded.keyId))).toMatchObject({
      status: "revoked",
    });
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
    expect((await deps.store.getRotation(seeded.secretId, rotationId))?.phase).toBe("force-revoked");
    const actions = deps.audit.actions(seeded.secretId);
    expect(actions.indexOf("force-revoke-requested")).toBeLessThan(actions.indexOf("key-revoked"));
  });

  it("force-revoke whose exchange call fails leaves the entry failed for the sweeper", async () => {
    await stall();
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError);

    const out = await forceRevoke({ secretId: seeded.secretId, ...OPERATOR }, deps);

    expect(out.ledger).toBe("failed");
    expect(await deps.ledger.get(ledgerEntryId(seeded.account, seeded.keyId))).toMatchObject({
      status: "failed",
      attempts: 1,
    });
  });

  it("rollback swaps current and previous labels and records the swap", async () => {
    await stall();
    deps.clock.advance(60);

    const out = await rollback({ secretId: seeded.secretId, ...OPERATOR }, deps);

    const next = promoted.created.next;
    expect(out).toEqual({
      rotationId,
      currentVersionId: seeded.versionId,
      abandonedKeyId: next.exchangeKeyId,
    });
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(seeded.versionId);
    expect(deps.secrets.holder(seeded.secretId, STAGE.previous)).toBe(next.versionId);
    expect(await deps.store.getVersions(seeded.secretId)).toMatchObject({
      current: promoted.created.current,
      previous: next,
      promotedAt: deps.clock.now().toISOString(),
    });
    expect(await deps.store.getRotation(seeded.secretId, rotationId)).toMatchObject({
      phase: "rolled-back",
      current: promoted.created.current,
      previous: next,
    });
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
    expect(deps.audit.actions(seeded.secretId).at(-1)).toBe("rotation-rolled-back");
  });

  it("after rollback, resume waits for consumers on the old key and then revokes the abandoned one", async () => {
    await stall();
    await rollback({ secretId: seeded.secretId, ...OPERATOR }, deps);
    await beginRotation(
      { secretId: seeded.secretId, trigger: "manual", mode: "resume", executionName: "x", actor: "op" },
      deps,
    );
    deps.clock.advance(600);
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);

    const out = await revokePrevious({ secretId: seeded.secretId, rotationId, execution: "x" }, deps);

    expect(out.keyId).toBe(promoted.created.next.exchangeKeyId);
    expect(deps.exchange.activeKeyIds(seeded.account)).toEqual([seeded.keyId]);
  });

  it("rolls back on a manual account (no key listing: the ledger says whether a person was asked to delete it)", async () => {
    // Found by the simulation (issue 17): rollback listed the account's keys, which a manual
    // account cannot, so every rollback there failed with ExchangePermanentError and left its intent.
    deps.exchange.addManualAccount(seeded.account);
    await stall();
    const listed = deps.exchange.callsTo("listKeys").length;

    const out = await rollback({ secretId: seeded.secretId, ...OPERATOR }, deps);

    expect(out.currentVersionId).toBe(seeded.versionId);
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(seeded.versionId);
    expect(deps.exchange.callsTo("listKeys")).toHaveLength(listed);
  });

  it("refuses rollback once the previous key is in the revocation ledger", async () => {
    await report(deps, seeded.secretId, engine, "e1", promoted.created.next.fingerprint);
    deps.clock.advance(600);
    await report(deps, seeded.secretId, engine, "e1", promoted.created.next.fingerprint);
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError);
    await expect(revokePrevious({ secretId: seeded.secretId, rotationId }, deps)).rejects.toBeInstanceOf(
      RevocationFailedError,
    );
    await stall();
    const labels = deps.secrets.dump(seeded.secretId);

    const err = await rollback({ secretId: seeded.secretId, ...OPERATOR }, deps).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(OperatorActionRejectedError);
    expect((err as Error).message).toContain(`${seeded.keyId} is in the revocation ledger (failed)`);
    expect(deps.secrets.dump(seeded.secretId)).toBe(labels);
  });
});
