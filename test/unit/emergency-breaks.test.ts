/**
 * Regression tests for issue 14's emergency breaks: break 6 (an emergency parked, rolled back and
 * resumed broke the glass on the NEW key) and the incident paths (escalation of a running rotation,
 * an earlier key still held in the ledger, and `rotate --compromised` in every state of a secret).
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  EmergencyRefusedError,
  ExchangeRetryableError,
  RevocationFailedError,
  RotationInProgressError,
} from "../../src/core/errors";
import { STAGE } from "../../src/core/model";
import { rollback } from "../../src/core/operator/operator";
import { restoreRevocation } from "../../src/core/revocation/restore";
import { retryRevocations } from "../../src/core/revocation/retry";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { abortRotation } from "../../src/core/rotation/abort-rotation";
import { beginRotation } from "../../src/core/rotation/begin-rotation";
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
import { report, resumeRotation, rotateToPromoted, startRotation } from "./support/flow";

const REASON = "key seen in a public paste";
const OPERATOR = { actor: "operator:alice", reason: "new key breaks the engine" };

function emergency(deps: FakeDeps, secretId: string, executionName: string) {
  return beginRotation(
    {
      secretId,
      trigger: "manual",
      mode: "rotate",
      executionName,
      actor: "operator:ana",
      compromised: true,
      reason: REASON,
    },
    deps,
  );
}

/** Every key an emergency break-glass was audited or recorded for. */
async function brokenGlassKeys(deps: FakeDeps, secretId: string, account: string, keyIds: string[]) {
  const audited = (await deps.audit.list(secretId))
    .filter((a) => a.action === "emergency-break-glass")
    .map((a) => String(a.details?.keyId));
  const recorded: string[] = [];
  for (const keyId of keyIds) {
    const entry = await deps.ledger.get(ledgerEntryId(account, keyId));
    if (entry?.breakGlass?.actor.startsWith("emergency:")) recorded.push(keyId);
  }
  return [...new Set([...audited, ...recorded])];
}

describe("break 6: an emergency parked, rolled back and resumed", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  const rotationId = "rot-emergency";

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps, { settings: { minOverlapSeconds: 900, emergencyDeadlineSeconds: 120 } });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
  });

  it("break 6: never breaks the glass on the new key; the key a live consumer holds is not revoked; the compromised key current again is alerted", async () => {
    const ref = { secretId: seeded.secretId, rotationId, execution: rotationId };
    await emergency(deps, seeded.secretId, rotationId);
    const created = await createNext(ref, deps);
    await promoteCurrent(ref, deps);
    const newKey = created.next.exchangeKeyId;
    // The engine switches to the new key at once.
    await report(deps, seeded.secretId, engine, "e1", created.next.fingerprint);
    // A step fails past its retries: the workflow parks the rotation.
    await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
    // The operator rolls back to the old (compromised) key; the engine has not moved back yet.
    await rollback({ secretId: seeded.secretId, ...OPERATOR }, deps);
    expect(deps.secrets.holder(seeded.secretId, STAGE.current)).toBe(seeded.versionId);
    deps.clock.advance(200); // well past the emergency's original deadline
    await report(deps, seeded.secretId, engine, "e1", created.next.fingerprint);

    await resumeRotation(deps, seeded.secretId, "x1");
    await report(deps, seeded.secretId, engine, "e1", created.next.fingerprint);
    const check = await checkConsumers({ ...ref, execution: "x1", iteration: 0 }, deps);
    const revoked = check.ready
      ? await revokePrevious({ ...ref, execution: "x1" }, deps).catch((e: unknown) => e)
      : undefined;

    expect(revoked).toBeUndefined();
    expect(check).toMatchObject({ ready: false, deadlinePassed: false });
    expect(check.emergencyBreak).toBeUndefined();
    // The engine is live on the new key: it stays active, and no break-glass names it.
    expect(deps.exchange.activeKeyIds(seeded.account)).toContain(newKey);
    expect(await brokenGlassKeys(deps, seeded.secretId, seeded.account, [newKey, seeded.keyId])).toEqual([]);
    // A normal gate for the abandoned key: the secret's own deadline, counted from the resume.
    expect(Date.parse(check.deadlineAt) - deps.clock.now().getTime()).toBe(
      seeded.settings.deadlineSeconds * 1000,
    );
    // The operator is told the compromised key is current again and what to run.
    const alert = deps.alerts.sent.find(
      (a) => a.kind === "emergency-rotation" && /is current again/.test(a.subject),
    );
    expect(alert?.details.compromisedKeyId).toBe(seeded.keyId);
    expect(String(alert?.details.action)).toMatch(/keyshift rotate keyshift\/binance\/main --compromised/);
    expect(deps.audit.actions(seeded.secretId)).toContain("emergency-compromised-key-current");
  });

  it("break 6: resumed without a rollback, the emergency still kills the compromised key at once", async () => {
    const ref = { secretId: seeded.secretId, rotationId, execution: rotationId };
    await emergency(deps, seeded.secretId, rotationId);
    await createNext(ref, deps);
    await promoteCurrent(ref, deps);
    await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
    deps.clock.advance(200);

    await resumeRotation(deps, seeded.secretId, "x1");
    const check = await checkConsumers({ ...ref, execution: "x1", iteration: 0 }, deps);
    const out = await revokePrevious({ ...ref, execution: "x1" }, deps);

    expect(check).toMatchObject({ ready: true, emergencyBreak: true });
    expect(out.keyId).toBe(seeded.keyId);
    expect(await brokenGlassKeys(deps, seeded.secretId, seeded.account, [seeded.keyId])).toEqual([
      seeded.keyId,
    ]);
  });
});

/** What BeginRotation answered to `rotate --compromised`, driven to its end like the state machine. */
async function driveToEnd(
  deps: FakeDeps,
  secretId: string,
  out: { rotationId: string; route: string },
  execution: string,
) {
  const ref = { secretId, rotationId: out.rotationId, execution };
  if (out.route === "create") {
    await createNext(ref, deps);
    await promoteCurrent(ref, deps);
  }
  let check = await checkConsumers({ ...ref, iteration: 0 }, deps);
  while (!check.ready && !check.deadlinePassed) {
    deps.clock.advance(check.waitSeconds);
    check = await checkConsumers({ ...ref, iteration: check.iteration }, deps);
  }
  const revoked = await revokePrevious(ref, deps);
  await completeRotation({ ...ref, outcome: "revoked" }, deps);
  return { check, revoked };
}

type Expect = "new" | "escalate" | "refuse";
interface World {
  deps: FakeDeps;
  seeded: SeededSecret;
  engine: SeededConsumer;
}
interface StateCase {
  state: string;
  expect: Expect;
  /** Brings the secret into the state; returns the compromised key (the one that must die). */
  arrange: (w: World) => Promise<{ compromised: string; also?: string }>;
  refusal?: RegExp;
}

/** A rotation that completes with its previous key revoked (or disabled, two-stage). */
async function completedRotation(w: World, rotationId: string) {
  const { deps, seeded, engine } = w;
  const p = await rotateToPromoted(deps, seeded.secretId, rotationId);
  await report(deps, seeded.secretId, engine, "e1", p.created.next.fingerprint);
  deps.clock.advance(seeded.settings.minOverlapSeconds);
  await report(deps, seeded.secretId, engine, "e1", p.created.next.fingerprint);
  const ref = { secretId: seeded.secretId, rotationId, execution: rotationId };
  return { p, ref };
}

const STATES: StateCase[] = [
  {
    state: "idle",
    expect: "new",
    arrange: async ({ seeded }) => ({ compromised: seeded.keyId }),
  },
  {
    state: "rotation running before promotion",
    expect: "refuse",
    refusal: /making its new key.*Re-run `keyshift rotate keyshift\/binance\/main --compromised/,
    arrange: async ({ deps, seeded }) => {
      await startRotation(deps, seeded.secretId, "rot-1");
      return { compromised: seeded.keyId };
    },
  },
  {
    state: "promoted and waiting (running)",
    expect: "escalate",
    arrange: async ({ deps, seeded }) => {
      const p = await rotateToPromoted(deps, seeded.secretId, "rot-1");
      await checkConsumers(
        { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1", iteration: 0 },
        deps,
      );
      return { compromised: seeded.keyId, also: p.created.next.exchangeKeyId };
    },
  },
  {
    state: "stalled before promotion",
    expect: "escalate",
    arrange: async ({ deps, seeded }) => {
      await startRotation(deps, seeded.secretId, "rot-1");
      const ref = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
      await createNext(ref, deps);
      await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
      return { compromised: seeded.keyId };
    },
  },
  {
    state: "stalled after promotion",
    expect: "escalate",
    arrange: async ({ deps, seeded }) => {
      const p = await rotateToPromoted(deps, seeded.secretId, "rot-1");
      const ref = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
      const check = await checkConsumers({ ...ref, iteration: 0 }, deps);
      await markStalled({ ...ref, ...check }, deps);
      return { compromised: seeded.keyId, also: p.created.next.exchangeKeyId };
    },
  },
  {
    state: "a rollback unfinished",
    expect: "refuse",
    refusal: /unfinished rollback.*keyshift rollback keyshift\/binance\/main/,
    arrange: async ({ deps, seeded }) => {
      const p = await rotateToPromoted(deps, seeded.secretId, "rot-1");
      const ref = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
      await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
      const rotation = await deps.store.getRotation(seeded.secretId, "rot-1");
      if (!rotation?.current || !rotation.previous) throw new Error("not promoted");
      // The rollback recorded its intent and died before moving the label.
      await deps.store.putRotation({
        ...rotation,
        rollback: {
          from: rotation.current,
          to: rotation.previous,
          requestedAt: "t",
          actor: "op",
          reason: "r",
        },
      });
      return { compromised: p.created.next.exchangeKeyId };
    },
  },
  {
    state: "a previous key held in the ledger by the gate",
    expect: "new",
    arrange: async (w) => {
      const { deps, seeded, engine } = w;
      const { p, ref } = await completedRotation(w, "rot-1");
      deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError);
      await expect(revokePrevious(ref, deps)).rejects.toBeInstanceOf(RevocationFailedError);
      await completeRotation({ ...ref, outcome: "revocation-deferred" }, deps);
      // An instance comes back on the old key: the sweeper holds the entry (gate).
      await report(deps, seeded.secretId, engine, "e2", seeded.fingerprint);
      deps.clock.advance(3600);
      await report(deps, seeded.secretId, engine, "e2", seeded.fingerprint);
      await report(deps, seeded.secretId, engine, "e1", p.created.next.fingerprint);
      expect(await retryRevocations({ limit: 10 }, deps)).toMatchObject({ held: 1 });
      return { compromised: p.created.next.exchangeKeyId, also: seeded.keyId };
    },
  },
  {
    state: "a disabled key within its grace (disabled keys count against the limit)",
    expect: "new",
    arrange: async (w) => {
      w.deps.exchange.capabilitiesValue = { ...TWO_STAGE };
      const { p, ref } = await completedRotation(w, "rot-1");
      expect((await revokePrevious(ref, w.deps)).status).toBe("disabled");
      await completeRotation({ ...ref, outcome: "disabled" }, w.deps);
      return { compromised: p.created.next.exchangeKeyId, also: w.seeded.keyId };
    },
  },
  {
    state: "a restored key",
    expect: "new",
    arrange: async (w) => {
      w.deps.exchange.capabilitiesValue = { ...TWO_STAGE };
      const { p, ref } = await completedRotation(w, "rot-1");
      const out = await revokePrevious(ref, w.deps);
      await completeRotation({ ...ref, outcome: "disabled" }, w.deps);
      await restoreRevocation({ entryId: out.entryId, actor: "operator:bo", reason: "engine lags" }, w.deps);
      expect(w.deps.exchange.activeKeyIds(w.seeded.account)).toContain(w.seeded.keyId);
      return { compromised: p.created.next.exchangeKeyId, also: w.seeded.keyId };
    },
  },
  {
    state: "a needs-operator ledger entry the exchange still refuses",
    expect: "refuse",
    refusal:
      /earlier key\(s\) key-1 \(ledger entry acct-main#key-1: failed, 2 attempt\(s\).*keyshift revocations retry/,
    arrange: async (w) => {
      const { deps, seeded } = w;
      const { p, ref } = await completedRotation(w, "rot-1");
      deps.revocation.maxAttempts = 1;
      deps.exchange.faults.failNext("removeKey", 5, ExchangeRetryableError);
      await expect(revokePrevious(ref, deps)).rejects.toBeInstanceOf(RevocationFailedError);
      await completeRotation({ ...ref, outcome: "revocation-deferred" }, deps);
      expect((await deps.ledger.get(ledgerEntryId(seeded.account, seeded.keyId)))?.needsOperator).toBe(true);
      return { compromised: p.created.next.exchangeKeyId, also: seeded.keyId };
    },
  },
];

describe("incident path c: rotate --compromised in every state of a secret", () => {
  for (const c of STATES) {
    it(`${c.state}: ${c.expect === "refuse" ? "refuses, saying why and what to run" : c.expect === "new" ? "a new emergency kills the compromised key within the deadline" : "escalates the rotation; the compromised key dies within the deadline"}`, async () => {
      const deps = makeDeps();
      const seeded = await seedSecret(deps, {
        settings: { minOverlapSeconds: 900, emergencyDeadlineSeconds: 120 },
      });
      const engine = await addConsumer(deps, seeded.secretId, "engine");
      await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
      const keys = await c.arrange({ deps, seeded, engine });
      const lockBefore = await deps.lock.get(seeded.secretId);
      const activeBefore = deps.exchange.activeKeyIds(seeded.account);
      const commandAt = deps.clock.now().getTime();

      const out = await emergency(deps, seeded.secretId, "emg-1").catch((e: unknown) => e);

      if (c.expect === "refuse") {
        expect(out).toBeInstanceOf(EmergencyRefusedError);
        expect((out as Error).message).toMatch(c.refusal ?? /./);
        expect(deps.exchange.activeKeyIds(seeded.account)).toContain(keys.compromised);
        if (lockBefore) expect(await deps.lock.get(seeded.secretId)).toEqual(lockBefore);
        else expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
        return;
      }
      if (out instanceof Error) throw out;
      const begun = out as Awaited<ReturnType<typeof beginRotation>>;
      expect(Boolean(begun.escalated)).toBe(c.expect === "escalate");
      const { revoked } = await driveToEnd(deps, seeded.secretId, begun, "emg-1");

      // Dead (disabled or removed) within the emergency deadline, counted from the command.
      expect(deps.clock.now().getTime() - commandAt).toBeLessThanOrEqual(120_000);
      expect(deps.exchange.activeKeyIds(seeded.account)).not.toContain(keys.compromised);
      if (c.expect === "new" && keys.also) {
        // The earlier key went too, under the emergency's own audited break-glass.
        expect(deps.exchange.activeKeyIds(seeded.account)).not.toContain(keys.also);
        expect(await brokenGlassKeys(deps, seeded.secretId, seeded.account, [keys.also])).toContain(
          keys.also,
        );
      }
      if (c.expect === "escalate") {
        expect(revoked.keyId).toBe(keys.compromised);
        if (keys.also) {
          // The current key may be exposed too: it cannot die here; the operator is told to rotate it.
          expect(deps.exchange.activeKeyIds(seeded.account)).toContain(keys.also);
          expect(deps.audit.actions(seeded.secretId)).toContain("emergency-follow-up-required");
        }
      }
      // Never a break-glass on a key the emergency did not name, nor on an earlier key it freed.
      const allowed = [keys.compromised, ...(c.expect === "new" && keys.also ? [keys.also] : [])];
      const broken = await brokenGlassKeys(deps, seeded.secretId, seeded.account, activeBefore);
      expect(broken.every((k) => allowed.includes(k))).toBe(true);
    });
  }
});

describe("incident path a: escalating a waiting rotation", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps, { settings: { minOverlapSeconds: 900, emergencyDeadlineSeconds: 120 } });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
  });

  it("records the emergency with the key ids, audited and alerted before anything changes; the replaced execution stops acting", async () => {
    const p = await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const old = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
    const first = await checkConsumers({ ...old, iteration: 0 }, deps);
    expect(first.waitSeconds).toBeGreaterThan(0);
    let lockAtAudit: unknown;
    const append = deps.audit.append.bind(deps.audit);
    deps.audit.append = async (e) => {
      if (e.action === "emergency-escalated") lockAtAudit = await deps.lock.get(seeded.secretId);
      return append(e);
    };

    const out = await emergency(deps, seeded.secretId, "emg-1");

    expect(out.escalated).toEqual({
      rotationId: "rot-1",
      route: "wait",
      keyIds: [seeded.keyId],
      followUpKeyId: p.created.next.exchangeKeyId,
    });
    // Audited while the replaced execution still drove the lock: before anything changed.
    expect(lockAtAudit).toMatchObject({ stalled: false, rotationId: "rot-1" });
    expect((lockAtAudit as { execution?: string }).execution ?? "rot-1").toBe("rot-1");
    expect((await deps.lock.get(seeded.secretId))?.execution).toBe("emg-1");
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.emergency).toMatchObject({
      reason: REASON,
      keyIds: [seeded.keyId],
      followUpKeyId: p.created.next.exchangeKeyId,
    });
    const alert = deps.alerts.sent.find((a) => /escalated/.test(a.subject));
    expect(String(alert?.details.action)).toMatch(/may be exposed too.*--compromised/);
    // The execution that drove it is fenced out: its next step is refused and changes nothing.
    await expect(checkConsumers({ ...old, iteration: 1 }, deps)).rejects.toBeInstanceOf(
      RotationInProgressError,
    );
    await expect(revokePrevious(old, deps)).rejects.toBeInstanceOf(RotationInProgressError);
    expect(deps.exchange.callsTo("removeKey")).toEqual([]);
    // A second `rotate --compromised` while the emergency runs has nothing to escalate.
    await expect(emergency(deps, seeded.secretId, "emg-2")).rejects.toBeInstanceOf(RotationInProgressError);
  });

  it("an escalating BeginRotation whose answer is lost is retried: the retry returns the same escalation, never refuses", async () => {
    // Stalled before promotion: once taken over, the rotation runs again un-promoted (route create),
    // which a first-time escalation would refuse — its own retry must not.
    await startRotation(deps, seeded.secretId, "rot-1");
    const ref = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
    await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
    const put = deps.store.putRotation.bind(deps.store);
    let lost = true;
    deps.store.putRotation = async (r) => {
      await put(r);
      if (lost && r.emergency?.escalatedAt) {
        lost = false;
        throw new Error("Lambda timed out after the write");
      }
    };

    await expect(emergency(deps, seeded.secretId, "emg-1")).rejects.toThrow(/timed out/);
    const retried = await emergency(deps, seeded.secretId, "emg-1");

    expect(retried.escalated).toMatchObject({ rotationId: "rot-1", route: "create" });
    expect((await deps.lock.get(seeded.secretId))?.execution).toBe("emg-1");
    expect(deps.audit.actions(seeded.secretId).filter((a) => a === "emergency-escalated")).toHaveLength(1);
  });

  it("a step of the replaced execution already running when the escalation lands cannot write the record", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const old = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
    // The old execution's first check has renewed its lease and read the record when the
    // escalation takes the rotation over; then it writes its deadline.
    const get = deps.store.getRotation.bind(deps.store);
    let escalated = false;
    deps.store.getRotation = async (secretId, rotationId) => {
      const read = await get(secretId, rotationId);
      if (!escalated) {
        escalated = true;
        await emergency(deps, seeded.secretId, "emg-1");
      }
      return read;
    };

    await expect(checkConsumers({ ...old, iteration: 0 }, deps)).rejects.toBeInstanceOf(
      RotationInProgressError,
    );

    deps.store.getRotation = get;
    const record = await deps.store.getRotation(seeded.secretId, "rot-1");
    expect(record?.fence).toBe("emg-1");
    expect(record?.emergency?.keyIds).toEqual([seeded.keyId]);
    expect(record?.deadlineAt).toBeUndefined();
  });

  it("an escalation racing a resume that adopts the lock takes over from the resume, never leaves the lock to nobody", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const ref = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
    await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
    // The escalation reads the lock stalled; right after, an operator's resume adopts it (and claims
    // the record), so the record the escalation reads next is the resume's.
    const get = deps.lock.get.bind(deps.lock);
    let reads = 0;
    deps.lock.get = async (secretId) => {
      const read = await get(secretId);
      reads += 1;
      if (reads === 3) await resumeRotation(deps, seeded.secretId, "res-1");
      return read;
    };

    const out = await emergency(deps, seeded.secretId, "emg-1");

    deps.lock.get = get;
    expect(out.escalated?.rotationId).toBe("rot-1");
    expect((await deps.lock.get(seeded.secretId))?.execution).toBe("emg-1");
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.fence).toBe("emg-1");
    const next = await checkConsumers({ ...ref, execution: "emg-1", iteration: 0 }, deps);
    expect(next.waitSeconds).toBeGreaterThanOrEqual(0);
    await expect(checkConsumers({ ...ref, execution: "res-1", iteration: 0 }, deps)).rejects.toBeInstanceOf(
      RotationInProgressError,
    );
  });

  it("an escalation whose claim landed with its answer lost gives the record back: the running execution still writes", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const old = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
    const claim = deps.store.claimRotation.bind(deps.store);
    deps.store.claimRotation = async (...args) => {
      await claim(...args);
      deps.store.claimRotation = claim;
      throw new Error("InternalServerError: the answer was lost");
    };

    await expect(emergency(deps, seeded.secretId, "emg-1")).rejects.toThrow(/answer was lost/);

    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.fence).toBe("rot-1");
    const check = await checkConsumers({ ...old, iteration: 0 }, deps);
    expect(check.waitSeconds).toBeGreaterThanOrEqual(0);
  });

  it("of two escalations of a rotation stalled before promotion, the second never takes over the first mid-CreateNext", async () => {
    await startRotation(deps, seeded.secretId, "rot-1");
    const ref = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
    await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
    // The second reads the lock stalled; right after, the first escalation adopts the rotation.
    const get = deps.lock.get.bind(deps.lock);
    let reads = 0;
    let first: Awaited<ReturnType<typeof emergency>> | undefined;
    deps.lock.get = async (secretId) => {
      const read = await get(secretId);
      reads += 1;
      if (reads === 3) first = await emergency(deps, seeded.secretId, "emg-1");
      return read;
    };

    await expect(emergency(deps, seeded.secretId, "emg-2")).rejects.toBeInstanceOf(EmergencyRefusedError);

    deps.lock.get = get;
    expect(first?.escalated?.route).toBe("create");
    expect((await deps.lock.get(seeded.secretId))?.execution).toBe("emg-1");
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.fence).toBe("emg-1");
  });

  it("an escalation that dies between its claim and the lock: its abort gives the record back to the resume driving the lock (simulation seed 10990, I4)", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const ref = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
    await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
    await resumeRotation(deps, seeded.secretId, "res-1");
    // What a Lambda timeout right after the escalation's claim leaves behind: the record is emg-1's,
    // the lock still res-1's. Its execution then aborts under its own name.
    await deps.store.claimRotation(seeded.secretId, "rot-1", "emg-1", "res-1");

    const out = await abortRotation(
      { secretId: seeded.secretId, rotationId: "emg-1", execution: "emg-1", error: "States.Timeout" },
      deps,
    );

    expect(out.outcome).toBe("nothing");
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.fence).toBe("res-1");
    const check = await checkConsumers({ ...ref, execution: "res-1", iteration: 0 }, deps);
    expect(check.waitSeconds).toBeGreaterThanOrEqual(0);
  });

  it("a resume fenced out of the record right after it took the lock stalls the lock again (simulation seed 11472, I4)", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const ref = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
    await markStalled({ ...ref, lagging: [], laggingCount: 0, error: "States.TaskFailed" }, deps);
    // An escalation claims the record between the resume's claim and its write, then dies.
    const resume = deps.lock.resume.bind(deps.lock);
    deps.lock.resume = async (...args) => {
      const held = await resume(...args);
      deps.lock.resume = resume;
      await deps.store.claimRotation(seeded.secretId, "rot-1", "emg-1", "res-1");
      return held;
    };

    await expect(resumeRotation(deps, seeded.secretId, "res-1")).rejects.toBeInstanceOf(
      RotationInProgressError,
    );

    const lock = await deps.lock.get(seeded.secretId);
    expect(lock).toMatchObject({ rotationId: "rot-1", stalled: true });
    // The operator resumes again: it claims the record from the dead escalation and drives the wait.
    await resumeRotation(deps, seeded.secretId, "res-2");
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.fence).toBe("res-2");
  });

  it("a step fenced out while its execution still drives the lock parks it: the lock stalls, the record stays the taker's", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const ref = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
    await deps.store.claimRotation(seeded.secretId, "rot-1", "emg-1", "rot-1");
    await expect(checkConsumers({ ...ref, iteration: 0 }, deps)).rejects.toBeInstanceOf(
      RotationInProgressError,
    );

    // The state machine's FencedOut: MarkStalled under this execution's name.
    const parked = await markStalled(
      { ...ref, lagging: [], laggingCount: 0, error: "RotationInProgressError" },
      deps,
    );

    expect(parked.stalled).toBe(true);
    expect(await deps.lock.get(seeded.secretId)).toMatchObject({ rotationId: "rot-1", stalled: true });
    expect((await deps.store.getRotation(seeded.secretId, "rot-1"))?.fence).toBe("emg-1");
  });

  it("a running execution that is not taken over picks the escalation up at its next check", async () => {
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const ref = { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1" };
    await checkConsumers({ ...ref, iteration: 0 }, deps);
    const rotation = await deps.store.getRotation(seeded.secretId, "rot-1");
    // The escalation as recorded (without the takeover): CheckConsumers reads the record each time.
    await deps.store.putRotation({
      ...(rotation as NonNullable<typeof rotation>),
      deadlineAt: undefined,
      emergency: {
        reason: REASON,
        actor: "op",
        requestedAt: deps.clock.now().toISOString(),
        keyIds: [seeded.keyId],
      },
    });
    deps.clock.advance(110);

    const check = await checkConsumers({ ...ref, iteration: 1 }, deps);

    expect(check).toMatchObject({ ready: true, emergencyBreak: true });
  });
});
