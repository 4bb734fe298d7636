/**
 * Issue 14, breaks 11 and 13: an operator command paused for any length at any port call cannot
 * interleave its writes with another command or a resume (the operator hold is a lease; the
 * fencing token on the rotation record and the intent on the lock are what fence a paused
 * process), and no "record, then audit" pair loses its audit entry to a crash between the two.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { ExchangeRetryableError, OperatorActionRejectedError } from "../../src/core/errors";
import { STAGE } from "../../src/core/model";
import { forceRevoke, rollback } from "../../src/core/operator/operator";
import { revokePrevious } from "../../src/core/revocation/revoke-previous";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import { completeRotation } from "../../src/core/rotation/complete-rotation";
import { OPERATOR_HOLD_SECONDS } from "../../src/core/rotation/lock";
import { markStalled } from "../../src/core/rotation/mark-stalled";
import { ledgerEntryId } from "../../src/core/tokens";
import {
  addConsumer,
  awsError,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
  TINY_OVERLAP,
} from "./fakes";
import { report, resumeRotation, rotateToPromoted } from "./support/flow";

const OPERATOR = { actor: "operator:alice", reason: "engine cannot reload" };
const PORTS = ["store", "lock", "secrets", "exchange", "ledger", "audit", "alerts"] as const;
/** The calls that change something (before and after issue 14's fencing). */
const WRITES = new Set([
  "store.putRotation",
  "store.claimRotation",
  "store.putRotationFenced",
  "store.putVersions",
  "secrets.moveStage",
  "audit.append",
  "ledger.openPending",
]);

/**
 * `deps` whose `at`-th port call (counted over every port; or the first call `at` picks) first
 * waits out the operator hold and lets `meanwhile` run to its end: a suspended CLI. `state.reached`
 * says whether the pause point was reached.
 */
function pausedAt(
  deps: FakeDeps,
  at: number | ((port: string, method: string) => boolean),
  meanwhile: () => Promise<unknown>,
) {
  let calls = 0;
  const state = { reached: false };
  const wrapped = { ...deps } as Record<string, unknown>;
  for (const port of PORTS) {
    const target = deps[port] as unknown as Record<string, unknown>;
    wrapped[port] = new Proxy(target, {
      get(obj, prop) {
        const value = Reflect.get(obj, prop, obj);
        if (typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          calls += 1;
          const pick = typeof at === "number" ? calls === at : at(port, String(prop));
          if (pick && !state.reached) {
            state.reached = true;
            deps.clock.advance(OPERATOR_HOLD_SECONDS + 1);
            await meanwhile().catch(() => undefined);
          }
          return (value as (...a: unknown[]) => unknown).apply(obj, args);
        };
      },
    });
  }
  return { deps: wrapped as unknown as FakeDeps, state };
}

describe("break 11: operator commands fenced against any pause", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  let promoted: Awaited<ReturnType<typeof rotateToPromoted>>;
  const rotationId = "rot-1";

  /** A promoted rotation stalled with the engine lagging on the old key. */
  async function stalledWorld(): Promise<void> {
    deps = makeDeps({ revocation: { baseSeconds: 60, capSeconds: 600, maxAttempts: 10 } });
    seeded = await seedSecret(deps, { settings: TINY_OVERLAP });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    promoted = await rotateToPromoted(deps, seeded.secretId, rotationId);
    deps.clock.advance(1);
    const check = await checkConsumers({ secretId: seeded.secretId, rotationId, iteration: 0 }, deps);
    await markStalled({ secretId: seeded.secretId, rotationId, ...check }, deps);
  }

  beforeEach(stalledWorld);

  /** AWSCURRENT (label and record) is on a key the exchange still holds active. */
  async function expectCurrentKeyAlive(): Promise<void> {
    const holder = deps.secrets.holder(seeded.secretId, STAGE.current);
    const keyOf: Record<string, string> = {
      [seeded.versionId]: seeded.keyId,
      [promoted.created.next.versionId]: promoted.created.next.exchangeKeyId,
    };
    const key = keyOf[holder ?? ""];
    expect(key, "AWSCURRENT on a known version").toBeDefined();
    expect(deps.exchange.activeKeyIds(seeded.account)).toContain(key);
    const recorded = await deps.store.getVersions(seeded.secretId);
    expect(recorded?.current?.versionId).toBe(holder);
    expect(await deps.ledger.get(ledgerEntryId(seeded.account, key ?? ""))).toBeUndefined();
  }

  it("break 11: a rollback paused past the hold before its first write, while a force-revoke removes the previous key, never moves AWSCURRENT onto it", async () => {
    // The scenario of the issue: the rollback made its checks, then its CLI was suspended.
    const paused = pausedAt(
      deps,
      (port, method) => WRITES.has(`${port}.${method}`),
      () => forceRevoke({ secretId: seeded.secretId, ...OPERATOR }, deps),
    );

    const out = await rollback({ secretId: seeded.secretId, ...OPERATOR }, paused.deps).catch(
      (e: unknown) => e,
    );

    expect(paused.state.reached).toBe(true);
    expect(out).toBeInstanceOf(OperatorActionRejectedError);
    expect(deps.exchange.key(seeded.account, seeded.keyId)).toBeUndefined();
    await expectCurrentKeyAlive();
    expect((await deps.store.getRotation(seeded.secretId, rotationId))?.phase).toBe("force-revoked");
  });

  it("break 11: a rollback paused past the hold after its intent is recorded refuses the force-revoke, and finishes", async () => {
    let raced: unknown;
    const paused = pausedAt(
      deps,
      (port, method) => port === "exchange" && method === "listKeys",
      async () => {
        raced = await forceRevoke({ secretId: seeded.secretId, ...OPERATOR }, deps).catch((e: unknown) => e);
        await expect(resumeRotation(deps, seeded.secretId, "x1")).rejects.toThrow(/rollback/);
      },
    );

    const out = await rollback({ secretId: seeded.secretId, ...OPERATOR }, paused.deps);

    expect(paused.state.reached).toBe(true);
    expect((raced as Error).message).toMatch(/unfinished rollback/);
    expect(out.currentVersionId).toBe(seeded.versionId);
    expect(deps.exchange.activeKeyIds(seeded.account)).toContain(seeded.keyId);
    await expectCurrentKeyAlive();
    expect(await deps.lock.get(seeded.secretId)).not.toHaveProperty("intent");
  });

  for (const [name, paused, competitor] of [
    ["rollback", "rollback", "force-revoke"],
    ["force-revoke", "force-revoke", "rollback"],
    ["rollback (re-run)", "rollback", "rollback"],
    ["force-revoke (re-run)", "force-revoke", "force-revoke"],
  ] as const) {
    it(`break 11: a ${name} paused past the hold at any port call never interleaves with a ${competitor}`, async () => {
      const run = (cmd: "rollback" | "force-revoke", d: FakeDeps) =>
        (cmd === "rollback" ? rollback : forceRevoke)({ secretId: seeded.secretId, ...OPERATOR }, d);
      for (let at = 1; ; at += 1) {
        await stalledWorld();
        const p = pausedAt(deps, at, () => run(competitor, deps));
        await run(paused, p.deps).catch(() => undefined);
        await expectCurrentKeyAlive();
        // Whatever is left unfinished, the re-run of that command finishes it and leaves a consistent secret.
        const rotation = await deps.store.getRotation(seeded.secretId, rotationId);
        if (rotation?.rollback) await run("rollback", deps);
        if (rotation?.forceRevoke) await run("force-revoke", deps);
        await expectCurrentKeyAlive();
        if (!p.state.reached) break;
      }
    });
  }

  for (const paused of ["rollback", "force-revoke"] as const) {
    it(`break 11: a ${paused} paused past the hold at any port call while the rotation is resumed and revokes its previous key never interleaves with it`, async () => {
      for (let at = 1; ; at += 1) {
        await stalledWorld();
        const p = pausedAt(deps, at, async () => {
          await resumeRotation(deps, seeded.secretId, `x${at}`);
          await report(deps, seeded.secretId, engine, "e1", promoted.created.next.fingerprint);
          await revokePrevious({ secretId: seeded.secretId, rotationId, execution: `x${at}` }, deps);
        });
        const command = paused === "rollback" ? rollback : forceRevoke;
        await command({ secretId: seeded.secretId, ...OPERATOR }, p.deps).catch(() => undefined);
        await expectCurrentKeyAlive();
        if (!p.state.reached) break;
      }
    });
  }
});

describe("break 13: no record-then-audit pair loses its audit entry to a crash between the two", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;
  const rotationId = "rot-1";

  beforeEach(async () => {
    deps = makeDeps({ revocation: { baseSeconds: 60, capSeconds: 600, maxAttempts: 10 } });
    seeded = await seedSecret(deps, { settings: TINY_OVERLAP });
    engine = await addConsumer(deps, seeded.secretId, "engine");
    await report(deps, seeded.secretId, engine, "e1", seeded.fingerprint);
    await rotateToPromoted(deps, seeded.secretId, rotationId);
    deps.clock.advance(1);
  });

  /** The next append of `action` fails once (a throttled write, or the Lambda dying right there). */
  function failAppendOf(action: string): void {
    const real = deps.audit.append.bind(deps.audit);
    deps.audit.append = async (event) => {
      if (event.action === action) {
        deps.audit.append = real;
        throw awsError("InternalServerError", `crashed before auditing ${action}`);
      }
      return real(event);
    };
  }

  async function stall(): Promise<void> {
    const check = await checkConsumers({ secretId: seeded.secretId, rotationId, iteration: 0 }, deps);
    await markStalled({ secretId: seeded.secretId, rotationId, ...check }, deps);
  }

  it("break 13: CompleteRotation dying at its audit entry: the retry still audits and alerts the completion", async () => {
    deps.exchange.faults.failNext("disableKey", 1, ExchangeRetryableError);
    deps.exchange.faults.failNext("removeKey", 1, ExchangeRetryableError);
    await report(
      deps,
      seeded.secretId,
      engine,
      "e1",
      (await deps.store.getVersions(seeded.secretId))?.current?.fingerprint ?? "",
    );
    deps.clock.advance(600);
    await report(
      deps,
      seeded.secretId,
      engine,
      "e1",
      (await deps.store.getVersions(seeded.secretId))?.current?.fingerprint ?? "",
    );
    await revokePrevious({ secretId: seeded.secretId, rotationId }, deps).catch(() => undefined);
    const input = {
      secretId: seeded.secretId,
      rotationId,
      outcome: "revocation-deferred" as const,
      error: "X",
    };
    failAppendOf("rotation-completed");

    await expect(completeRotation(input, deps)).rejects.toThrow(/crashed/);
    const out = await completeRotation(input, deps);

    expect(out.outcome).toBe("revocation-deferred");
    expect(deps.audit.actions(seeded.secretId)).toContain("rotation-completed");
    expect(deps.alerts.kinds()).toContain("revocation-failed");
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
  });

  it("break 13: ParkRotation dying at its audit entry, then resumed by an operator, still leaves the stall audited", async () => {
    const check = await checkConsumers({ secretId: seeded.secretId, rotationId, iteration: 0 }, deps);
    failAppendOf("rotation-stalled");

    await expect(markStalled({ secretId: seeded.secretId, rotationId, ...check }, deps)).rejects.toThrow(
      /crashed/,
    );
    await resumeRotation(deps, seeded.secretId, "x1").catch(() => undefined);
    await markStalled({ secretId: seeded.secretId, rotationId, ...check }, deps);

    expect(deps.audit.actions(seeded.secretId)).toContain("rotation-stalled");
    expect(deps.alerts.kinds()).toContain("rotation-stalled");
  });

  it("break 13: force-revoke dying at its `rotation-force-revoked` audit: the re-run finishes it and audits", async () => {
    await stall();
    failAppendOf("rotation-force-revoked");

    await expect(forceRevoke({ secretId: seeded.secretId, ...OPERATOR }, deps)).rejects.toThrow(/crashed/);
    await forceRevoke({ secretId: seeded.secretId, ...OPERATOR }, deps).catch(() => undefined);

    expect(deps.audit.actions(seeded.secretId)).toContain("rotation-force-revoked");
    expect((await deps.store.getRotation(seeded.secretId, rotationId))?.phase).toBe("force-revoked");
    expect(await deps.lock.get(seeded.secretId)).toBeUndefined();
  });

  it("break 13: rollback dying at its `rotation-rolled-back` audit: the re-run finishes it and audits", async () => {
    await stall();
    failAppendOf("rotation-rolled-back");

    await expect(rollback({ secretId: seeded.secretId, ...OPERATOR }, deps)).rejects.toThrow(/crashed/);
    await rollback({ secretId: seeded.secretId, ...OPERATOR }, deps).catch(() => undefined);

    expect(deps.audit.actions(seeded.secretId)).toContain("rotation-rolled-back");
    expect((await deps.store.getRotation(seeded.secretId, rotationId))?.phase).toBe("rolled-back");
    expect(await deps.lock.get(seeded.secretId)).not.toHaveProperty("intent");
  });
});
