import { beforeEach, describe, expect, it } from "vitest";
import {
  ExchangeKeyLimitError,
  ExchangePermanentError,
  ExchangeRetryableError,
  OperatorActionRejectedError,
} from "../../src/core/errors";
import { requeueRevocation } from "../../src/core/operator/actions";
import { restoreRevocation } from "../../src/core/revocation/restore";
import { retryRevocations } from "../../src/core/revocation/retry";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { completeRotation } from "../../src/core/rotation/complete-rotation";
import { createNext } from "../../src/core/rotation/create-next";
import { ledgerEntryId } from "../../src/core/tokens";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
  TWO_STAGE,
} from "./fakes";
import { currentFingerprint, report, rotateToPromoted, startRotation } from "./support/flow";

describe("two-stage revocation (exchanges that can disable keys)", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  const rotationId = "rot-1";
  const ref = { secretId: "keyshift/binance/main", rotationId };

  /** Rotates and lets the consumer confirm, so the gate is ready for the previous key. */
  async function promotedAndConfirmed() {
    await rotateToPromoted(deps, seeded.secretId, rotationId);
    deps.clock.advance(seeded.settings.minOverlapSeconds);
    await report(deps, seeded.secretId, engine, "e1", await currentFingerprint(deps, seeded.secretId));
  }

  /** The consumer keeps heartbeating on the current key, as a live service does through the grace. */
  async function heartbeatNow() {
    await report(deps, seeded.secretId, engine, "e1", await currentFingerprint(deps, seeded.secretId));
  }

  beforeEach(async () => {
    deps = makeDeps();
    deps.exchange.capabilitiesValue = { ...TWO_STAGE };
    seeded = await seedSecret(deps, { maxActiveKeys: 3, settings: { removeAfterSeconds: 3600 } });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
  });

  it("disables the previous key first, completes the rotation, and removes the key only after the grace", async () => {
    await promotedAndConfirmed();

    const revoked = await revokePrevious(ref, deps);
    const entryId = ledgerEntryId(seeded.account, seeded.keyId);

    expect(revoked.status).toBe("disabled");
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("disabled");
    expect(deps.exchange.callsTo("removeKey")).toHaveLength(0);
    const completed = await completeRotation({ ...ref, outcome: "revoked" }, deps);
    expect(completed.outcome).toBe("disabled");

    deps.clock.advance(3599);
    await heartbeatNow();
    await retryRevocations({ limit: 50 }, deps);
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("disabled");

    deps.clock.advance(2);
    await heartbeatNow();
    await retryRevocations({ limit: 50 }, deps);
    expect(deps.exchange.key(seeded.account, seeded.keyId)).toBeUndefined();
    expect((await deps.ledger.get(entryId))?.status).toBe("revoked");
    const actions = (await deps.audit.list(seeded.secretId)).map((a) => a.action);
    expect(actions.indexOf("key-disabled")).toBeLessThan(actions.indexOf("key-revoked"));
  });

  it("keeps the entry disabled when the removal fails, and retries the removal, never the disable", async () => {
    await promotedAndConfirmed();
    await revokePrevious(ref, deps);
    deps.clock.advance(3601);
    await heartbeatNow();
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError);

    await retryRevocations({ limit: 50 }, deps);
    const entry = await deps.ledger.get(ledgerEntryId(seeded.account, seeded.keyId));

    expect(entry?.status).toBe("disabled");
    expect(entry?.lastError).toBeDefined();
    expect(deps.exchange.callsTo("disableKey")).toHaveLength(1);
  });

  it("holds the removal while a later rotation waits for its consumers (I1 at every stage)", async () => {
    await promotedAndConfirmed();
    await revokePrevious(ref, deps);
    await completeRotation({ ...ref, outcome: "revoked" }, deps);
    // The next rotation promotes a new key; the engine has not confirmed it yet.
    await rotateToPromoted(deps, seeded.secretId, "rot-2");
    deps.clock.advance(3601);

    await retryRevocations({ limit: 50 }, deps);

    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("disabled");
    expect((await deps.ledger.get(ledgerEntryId(seeded.account, seeded.keyId)))?.heldReason).toMatch(
      /lagging/,
    );
  });

  it("counts disabled keys against the limit where the exchange does", async () => {
    const small = makeDeps();
    small.exchange.capabilitiesValue = { ...TWO_STAGE };
    const secret = await seedSecret(small, { maxActiveKeys: 2 });
    const consumer = await addConsumer(small, secret.secretId, "engine");
    await report(small, secret.secretId, consumer, "e1", secret.fingerprint);
    await rotateToPromoted(small, secret.secretId, rotationId);
    small.clock.advance(secret.settings.minOverlapSeconds);
    await report(small, secret.secretId, consumer, "e1", await currentFingerprint(small, secret.secretId));
    await revokePrevious(ref, small);
    await completeRotation({ ...ref, outcome: "revoked" }, small);

    await startRotation(small, secret.secretId, "rot-2");
    const refused = createNext({ secretId: secret.secretId, rotationId: "rot-2" }, small);

    await expect(refused).rejects.toBeInstanceOf(ExchangeKeyLimitError);
    await expect(refused).rejects.toThrow(/disabled keys count/);
    expect(small.exchange.callsTo("createKey")).toHaveLength(1);
  });

  it("restores a disabled previous key within the grace: audited before, alerted, off the sweep until requeued", async () => {
    await promotedAndConfirmed();
    await revokePrevious(ref, deps);
    await completeRotation({ ...ref, outcome: "revoked" }, deps);
    const entryId = ledgerEntryId(seeded.account, seeded.keyId);

    const restored = await restoreRevocation(
      { entryId, actor: "operator:ana", reason: "risk engine unregistered" },
      deps,
    );

    expect(restored.status).toBe("restored");
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("active");
    const actions = (await deps.audit.list(seeded.secretId)).map((a) => a.action);
    expect(actions.slice(-2)).toEqual(["key-restore-requested", "key-restored"]);
    expect(deps.alerts.sent.map((a) => a.kind)).toContain("key-restored");
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();

    deps.clock.advance(7200);
    await retryRevocations({ limit: 50 }, deps);
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("active");

    await requeueRevocation({ entryId, actor: "operator:ana" }, deps);
    await heartbeatNow();
    await retryRevocations({ limit: 50 }, deps);
    expect((await deps.ledger.get(entryId))?.status).toBe("disabled");
  });

  it("refuses to restore a removed key, and any key while a rotation holds the lock", async () => {
    await promotedAndConfirmed();
    await revokePrevious(ref, deps);
    const entryId = ledgerEntryId(seeded.account, seeded.keyId);

    // rot-1 has not completed: it still holds the lock.
    await expect(restoreRevocation({ entryId, actor: "op", reason: "x" }, deps)).rejects.toThrow(
      /holds the lock/,
    );
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("disabled");

    await completeRotation({ ...ref, outcome: "revoked" }, deps);
    deps.clock.advance(3601);
    await heartbeatNow();
    await retryRevocations({ limit: 50 }, deps);
    expect((await deps.ledger.get(entryId))?.status).toBe("revoked");
    await expect(restoreRevocation({ entryId, actor: "op", reason: "x" }, deps)).rejects.toBeInstanceOf(
      OperatorActionRejectedError,
    );
    expect(deps.exchange.callsTo("enableKey")).toHaveLength(0);
  });

  it("a restore that dies between the ledger and the exchange is finished by running it again; its lock is given back", async () => {
    await promotedAndConfirmed();
    await revokePrevious(ref, deps);
    await completeRotation({ ...ref, outcome: "revoked" }, deps);
    const entryId = ledgerEntryId(seeded.account, seeded.keyId);
    deps.exchange.faults.failNext("enableKey", 1, ExchangeRetryableError);

    await expect(restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps)).rejects.toThrow();
    const between = await deps.ledger.get(entryId);
    const again = await restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps);

    // Between the two: the restore's intent (off the sweep; never `restored` while the key is
    // disabled — issue 14 break 16), the key still disabled, the lock free.
    expect(between?.status).toBe("restoring");
    expect(again.status).toBe("restored");
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("active");
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
  });

  it("a restore that dies holding the lock blocks rotations only for its short lease, then the next one frees it", async () => {
    await promotedAndConfirmed();
    await revokePrevious(ref, deps);
    await completeRotation({ ...ref, outcome: "revoked" }, deps);
    const entryId = ledgerEntryId(seeded.account, seeded.keyId);
    const release = deps.lock.release.bind(deps.lock);
    deps.lock.release = async () => {
      throw new Error("the process died before giving the lock back");
    };
    await expect(restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps)).rejects.toThrow(/died/);
    deps.lock.release = release;

    await expect(startRotation(deps, seeded.secretId, "rot-2")).rejects.toThrow(/being rotated by restore-/);
    deps.clock.advance(121);
    await startRotation(deps, seeded.secretId, "rot-2");

    expect((await deps.lock.get(seeded.secretId))?.rotationId).toBe("rot-2");
    const actions = (await deps.audit.list(seeded.secretId)).map((a) => a.action);
    expect(actions).toContain("lock-released-after-finish");
  });

  it("removes a crashed attempt's key at once: a key no consumer was given needs no grace", async () => {
    await startRotation(deps, seeded.secretId, rotationId);
    deps.exchange.faults.failNext("verifyKey", 1, ExchangePermanentError);
    await expect(createNext(ref, deps)).rejects.toThrow();
    deps.exchange.faults.clear();

    await createNext(ref, deps);

    expect(deps.exchange.callsTo("disableKey")).toHaveLength(0);
    expect(deps.exchange.removed).toHaveLength(1);
  });
});
