/**
 * Regression tests for the restore / sweeper / ledger breaks of issue 14 (1, 2, 3, 4, 5, 9, 12, 16),
 * each named after its break. Every one of them failed on the code before its fix.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { ThrottlingException } from "../../harness/memory/faults";
import { ExchangeRetryableError, OperatorActionRejectedError } from "../../src/core/errors";
import type { LedgerEntry } from "../../src/core/model";
import { forceRevoke, requeueRevocation } from "../../src/core/operator/operator";
import { restoreRevocation } from "../../src/core/revocation/restore";
import { retryRevocations } from "../../src/core/revocation/retry";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { abortRotation } from "../../src/core/rotation/abort-rotation";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import { completeRotation } from "../../src/core/rotation/complete-rotation";
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
  TWO_STAGE,
} from "./fakes";
import { currentFingerprint, report, rotateToPromoted, startRotation } from "./support/flow";

const GRACE = 3600;

/** A promise and the function that settles it: lets a test pause one side of a race. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

describe("restore / sweeper / ledger breaks (issue 14)", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  let entryId: string;
  const rotationId = "rot-1";
  const ref = { secretId: "keyshift/binance/main", rotationId };

  async function heartbeatNow() {
    await report(deps, seeded.secretId, engine, "e1", await currentFingerprint(deps, seeded.secretId));
  }

  /** rot-1 promoted, confirmed, its previous key disabled, the rotation completed (the lock is free). */
  async function disabledAndCompleted() {
    await rotateToPromoted(deps, seeded.secretId, rotationId);
    deps.clock.advance(seeded.settings.minOverlapSeconds);
    await heartbeatNow();
    await revokePrevious(ref, deps);
    await completeRotation({ ...ref, outcome: "revoked" }, deps);
  }

  /** The state of the exchange and the ledger must say the same about the restored key (I9). */
  async function ledgerAgreesWithExchange(): Promise<LedgerEntry | undefined> {
    const entry = await deps.ledger.get(entryId);
    const key = deps.exchange.key(seeded.account, seeded.keyId);
    if (entry?.status === "revoked") expect(key).toBeUndefined();
    if (entry?.status === "disabled") expect(key?.status).toBe("disabled");
    if (entry?.status === "restored") expect(key?.status).toBe("active");
    return entry;
  }

  beforeEach(async () => {
    deps = makeDeps();
    deps.exchange.capabilitiesValue = { ...TWO_STAGE };
    seeded = await seedSecret(deps, { maxActiveKeys: 3, settings: { removeAfterSeconds: GRACE } });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    entryId = ledgerEntryId(seeded.account, seeded.keyId);
  });

  it("break 1: after a restore the gate applies again; the old break-glass is history and authorises nothing", async () => {
    const promoted = await rotateToPromoted(deps, seeded.secretId, rotationId);
    deps.clock.advance(seeded.settings.minOverlapSeconds);
    // The engine never moves: it stays live on the old key.
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    const check = await checkConsumers({ ...ref, execution: rotationId, iteration: 0 }, deps);
    await markStalled({ ...ref, execution: rotationId, ...check }, deps);
    const forced = await forceRevoke({ secretId: seeded.secretId, actor: "op:alice", reason: "leak" }, deps);
    expect(forced.ledger).toBe("disabled");

    await restoreRevocation({ entryId, actor: "op:bob", reason: "engine still on it" }, deps);
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    await requeueRevocation({ entryId, actor: "op:bob" }, deps);
    const swept = await retryRevocations({ limit: 10 }, deps);

    expect(swept).toMatchObject({ held: 1 });
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("active");
    const entry = await deps.ledger.get(entryId);
    expect(entry?.breakGlass).toBeUndefined();
    expect(entry?.breakGlassHistory).toEqual([
      expect.objectContaining({ actor: "op:alice", reason: "leak" }),
    ]);
    expect(entry?.heldReason).toMatch(/lagging/);
    // A later, new break-glass is recorded (and would authorise the next attempt).
    const again = await deps.ledger.recordBreakGlass(entryId, {
      actor: "op:carol",
      reason: "second leak",
      at: deps.clock.now().toISOString(),
    });
    expect(again.breakGlass?.actor).toBe("op:carol");
    expect(promoted.created.next.exchangeKeyId).not.toBe(seeded.keyId);
  });

  it("break 2: a restore landing after the sweeper listed its due entries is not undone by the sweep", async () => {
    await disabledAndCompleted();
    deps.clock.advance(GRACE + 1);
    await heartbeatNow();
    const listDue = deps.ledger.listDue.bind(deps.ledger);
    deps.ledger.listDue = async (now, limit) => {
      const due = await listDue(now, limit);
      await restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps);
      return due;
    };

    await retryRevocations({ limit: 10 }, deps);

    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("active");
    expect((await ledgerAgreesWithExchange())?.status).toBe("restored");
  });

  it("break 2: a restore enabling the key while the sweeper re-disables it never leaves `disabled` on an enabled key", async () => {
    await disabledAndCompleted();
    deps.clock.advance(GRACE + 1);
    await heartbeatNow();
    const restoreAtEnable = gate();
    const sweeperDone = gate();
    let restore: Promise<unknown> | undefined;
    deps.exchange.before.enableKey = async () => {
      restoreAtEnable.open();
      await sweeperDone.wait;
    };
    const listDue = deps.ledger.listDue.bind(deps.ledger);
    deps.ledger.listDue = async (now, limit) => {
      const due = await listDue(now, limit);
      restore = restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps).catch((e: unknown) => e);
      await restoreAtEnable.wait;
      return due;
    };
    const markDisabled = deps.ledger.markDisabled.bind(deps.ledger);
    deps.ledger.markDisabled = async (...args) => {
      // The restore's enable lands after the sweeper's confirming listing, before its ledger write.
      sweeperDone.open();
      await restore;
      return markDisabled(...args);
    };

    await retryRevocations({ limit: 10 }, deps);
    sweeperDone.open();
    await restore;
    const entry = await ledgerAgreesWithExchange();
    deps.clock.advance(2 * GRACE);
    await heartbeatNow();
    await retryRevocations({ limit: 10 }, deps);

    expect(entry?.status).toBe("restored");
    expect(deps.exchange.key(seeded.account, seeded.keyId)?.status).toBe("active");
  });

  it("break 3: a restore during the sweeper's removal is refused (an attempt is in flight); the ledger never goes restored → revoked", async () => {
    await disabledAndCompleted();
    deps.clock.advance(GRACE + 1);
    await heartbeatNow();
    let raced: unknown;
    deps.exchange.before.removeKey = async () => {
      deps.exchange.before.removeKey = undefined;
      raced = await restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps).catch(
        (e: unknown) => e,
      );
    };

    await retryRevocations({ limit: 10 }, deps);

    expect(raced).toBeInstanceOf(OperatorActionRejectedError);
    expect((raced as Error).message).toMatch(/revocation attempt is in flight; retry in \d+ ?s/);
    expect(deps.audit.actions(seeded.secretId)).not.toContain("key-restored");
    expect(deps.alerts.kinds()).not.toContain("key-restored");
    expect((await ledgerAgreesWithExchange())?.status).toBe("revoked");
    expect((await deps.ledger.get(entryId))?.restored).toBeUndefined();
  });

  it("break 4: a restore that outlives its lease never ends with three active keys: the rotation that took the lock refuses to make a key", async () => {
    await disabledAndCompleted();
    let rotation: unknown;
    deps.exchange.before.enableKey = async () => {
      deps.exchange.before.enableKey = undefined;
      deps.clock.advance(121); // a 2FA wait: the restore's 120 s hold on the lock has run out
      rotation = await (async () => {
        await startRotation(deps, seeded.secretId, "rot-2");
        await createNext({ secretId: seeded.secretId, rotationId: "rot-2" }, deps);
        await promoteCurrent({ secretId: seeded.secretId, rotationId: "rot-2" }, deps);
      })().catch((e: unknown) => e);
    };

    await restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps);

    expect(deps.exchange.activeKeyIds(seeded.account)).toHaveLength(2);
    expect(rotation).toBeInstanceOf(Error);
    expect((rotation as Error).message).toMatch(new RegExp(`revocations restore ${entryId}`));
    expect(deps.exchange.callsTo("createKey")).toHaveLength(1);
  });

  it("break 4: a rotation that took the lock before the restore wrote its intent makes the restore refuse, enabling nothing", async () => {
    await disabledAndCompleted();
    const paused = gate();
    const resume = gate();
    // The restore is paused right after it took the lock (before it writes anything to the ledger).
    const acquire = deps.lock.acquire.bind(deps.lock);
    deps.lock.acquire = async (...args) => {
      const out = await acquire(...args);
      if (args[1].startsWith("restore-")) {
        paused.open();
        await resume.wait;
      }
      return out;
    };
    const restore = restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps).catch(
      (e: unknown) => e,
    );
    await paused.wait;
    deps.clock.advance(121);
    await rotateToPromoted(deps, seeded.secretId, "rot-2");
    resume.open();
    const outcome = await restore;

    expect(outcome).toBeInstanceOf(OperatorActionRejectedError);
    expect(deps.exchange.callsTo("enableKey")).toHaveLength(0);
    expect(deps.exchange.activeKeyIds(seeded.account)).toHaveLength(2);
    expect((await ledgerAgreesWithExchange())?.status).toBe("disabled");
  });

  it("break 5: a restore beside an aborted rotation's unremoved key refuses, naming that key", async () => {
    await disabledAndCompleted();
    await startRotation(deps, seeded.secretId, "rot-2");
    const created = await createNext({ secretId: seeded.secretId, rotationId: "rot-2" }, deps);
    deps.exchange.faults.failNext("removeKey", 5, ExchangeRetryableError, "HTTP 503");
    await abortRotation({ secretId: seeded.secretId, rotationId: "rot-2", error: "boom" }, deps);
    deps.exchange.faults.clear();
    expect(deps.exchange.activeKeyIds(seeded.account)).toContain(created.next.exchangeKeyId);

    const refused = restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps);

    await expect(refused).rejects.toBeInstanceOf(OperatorActionRejectedError);
    await expect(refused).rejects.toThrow(new RegExp(created.next.exchangeKeyId));
    expect(deps.exchange.callsTo("enableKey")).toHaveLength(0);
    expect(deps.exchange.activeKeyIds(seeded.account)).toHaveLength(2);
    expect((await ledgerAgreesWithExchange())?.status).toBe("disabled");
  });

  it("break 9: a throttled audit append after the disable is not an exchange failure, and key-disabled is written", async () => {
    await rotateToPromoted(deps, seeded.secretId, rotationId);
    deps.clock.advance(seeded.settings.minOverlapSeconds);
    await heartbeatNow();
    const appended = deps.audit.append.bind(deps.audit);
    let failures = 2;
    deps.audit.append = async (event) => {
      if (event.action === "key-disabled" && failures-- > 0) throw new ThrottlingException("Rate exceeded");
      return appended(event);
    };

    // The state's retries of RevokePrevious.
    let out: unknown;
    for (let i = 0; i < 4 && !out; i++) out = await revokePrevious(ref, deps).catch(() => undefined);

    const actions = deps.audit.actions(seeded.secretId);
    expect(actions).toContain("key-disabled");
    expect(actions).not.toContain("revocation-attempt-failed");
    expect((await deps.ledger.get(entryId))?.lastError).toBeUndefined();
    expect((await ledgerAgreesWithExchange())?.status).toBe("disabled");
  });

  it("break 12: 'not found' confirmed by a listing that lacks the secret's current key is no proof: the entry is not recorded revoked", async () => {
    const oneStage = makeDeps();
    const secret = await seedSecret(oneStage, { maxActiveKeys: 3 });
    const consumer = await addConsumer(oneStage, secret.secretId, "engine");
    await report(oneStage, secret.secretId, consumer, "e1", secret.fingerprint);
    await rotateToPromoted(oneStage, secret.secretId, rotationId);
    oneStage.clock.advance(secret.settings.minOverlapSeconds);
    await report(
      oneStage,
      secret.secretId,
      consumer,
      "e1",
      await currentFingerprint(oneStage, secret.secretId),
    );
    // The admin secret names a sibling sub-account: it knows none of this secret's keys.
    oneStage.exchange.removeKey = async () => "not-found";
    oneStage.exchange.listKeys = async () => ({
      keys: [
        {
          keyId: "sibling-1",
          label: "other",
          permissions: ["read"],
          status: "active",
          createdAt: "2030-01-01T00:00:00Z",
        },
      ],
      maxActiveKeys: 3,
    });

    await expect(revokePrevious({ ...ref, secretId: secret.secretId }, oneStage)).rejects.toThrow();

    const entry = await oneStage.ledger.get(ledgerEntryId(secret.account, secret.keyId));
    expect(entry?.status).toBe("failed");
    expect(entry?.lastError).toMatch(
      /listing of acct-main does not show its current key key-\d+: the admin secret may name another account/,
    );
    expect(oneStage.audit.actions(secret.secretId)).not.toContain("key-revoked");
  });

  it("break 16: when the enable fails the entry does not say restored; a re-run finishes it", async () => {
    await disabledAndCompleted();
    deps.exchange.faults.failNext("enableKey", 1, ExchangeRetryableError);

    await expect(restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps)).rejects.toThrow();
    const between = await deps.ledger.get(entryId);
    const again = await restoreRevocation({ entryId, actor: "op", reason: "engine" }, deps);

    expect(between?.status).not.toBe("restored");
    expect(deps.alerts.kinds().filter((k) => k === "key-restored")).toHaveLength(1);
    expect(again.status).toBe("restored");
    expect((await ledgerAgreesWithExchange())?.status).toBe("restored");
  });
});
