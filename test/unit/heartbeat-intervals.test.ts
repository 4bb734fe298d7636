import { beforeEach, describe, expect, it } from "vitest";
import { heartbeat } from "../../src/core/consumers/heartbeat";
import { DUE_WINDOW_SECONDS, nextHeartbeatSeconds } from "../../src/core/consumers/heartbeat-policy";
import type { LockRecord, SecretSettings } from "../../src/core/model";
import { checkConsumers } from "../../src/core/rotation/check-consumers";
import {
  addConsumer,
  type FakeDeps,
  makeDeps,
  type SeededConsumer,
  type SeededSecret,
  seedSecret,
} from "./fakes";
import { currentFingerprint, report, rotateToPromoted, startRotation } from "./support/flow";

const NOW = new Date("2030-03-04T05:00:00.000Z");
const LOCK: LockRecord = {
  secretId: "s",
  rotationId: "r",
  acquiredAt: NOW.toISOString(),
  leaseExpiresAt: NOW.toISOString(),
  stalled: false,
};
const SETTINGS: Partial<SecretSettings> = {
  idleHeartbeatSeconds: 300,
  activeHeartbeatSeconds: 5,
  enrolledAt: "2030-01-01T00:00:00.000Z",
};

describe("nextHeartbeatSeconds: what the server tells an instance", () => {
  const next = (over: Partial<Parameters<typeof nextHeartbeatSeconds>[0]>) =>
    nextHeartbeatSeconds({ status: "current", settings: SETTINGS, lock: undefined, now: NOW, ...over });

  it("is idle while no rotation runs, active while one holds the lock, 0 on stale", () => {
    expect(next({})).toBe(300);
    expect(next({ lock: LOCK })).toBe(5);
    expect(next({ status: "stale" })).toBe(0);
    expect(next({ status: "stale", lock: LOCK })).toBe(0);
  });

  it("keeps an unknown key fast but never at once (a key that stays unknown would spin)", () => {
    expect(next({ status: "unknown" })).toBe(5);
  });

  it("goes back to idle while the rotation is stalled (it waits for an operator, not for seconds)", () => {
    expect(next({ lock: { ...LOCK, stalled: true } })).toBe(300);
  });

  it("uses the defaults (300 / 5) for settings enrolled before the intervals existed", () => {
    expect(next({ settings: { enrolledAt: SETTINGS.enrolledAt } })).toBe(300);
    expect(next({ settings: undefined, lock: LOCK })).toBe(5);
  });

  it("brings the instance back just after a scheduled start that falls within the idle interval", () => {
    // 05:00 UTC now; the rotation starts at 05:02 (cron): back 120 s + 5 s margin from now.
    expect(next({ settings: { ...SETTINGS, schedule: "cron(2 5 * * ? *)" } })).toBe(125);
    // A start beyond the idle interval changes nothing.
    expect(next({ settings: { ...SETTINGS, schedule: "cron(0 6 * * ? *)" } })).toBe(300);
  });

  it("stays active for the due window after a scheduled start even before the lock shows", () => {
    const settings = { ...SETTINGS, schedule: "cron(58 4 * * ? *)" }; // started 2 minutes ago
    expect(next({ settings })).toBe(5);
    const later = new Date(NOW.getTime() + DUE_WINDOW_SECONDS * 1000);
    expect(next({ settings, now: later })).toBe(300);
  });

  it("counts a rate(...) schedule from the enrollment (its only known anchor)", () => {
    // Enrolled 2030-01-01T00:00Z, every day: the next start is 2030-03-05T00:00Z, far away.
    expect(next({ settings: { ...SETTINGS, schedule: "rate(1 day)" } })).toBe(300);
    const justBefore = new Date("2030-03-04T23:58:00.000Z");
    expect(next({ settings: { ...SETTINGS, schedule: "rate(1 day)" }, now: justBefore })).toBe(125);
  });
});

describe("heartbeat: liveness follows the promise, one write in the steady state", () => {
  let deps: FakeDeps;
  let seeded: SeededSecret;
  let engine: SeededConsumer;

  beforeEach(async () => {
    deps = makeDeps();
    seeded = await seedSecret(deps, {
      settings: { minOverlapSeconds: 300, idleHeartbeatSeconds: 300, activeHeartbeatSeconds: 5 },
    });
    engine = await addConsumer(deps, seeded.secretId, "engine");
  });

  it("stores expectedBy = now + the interval it answered, and touches only the times afterwards", async () => {
    await report(deps, seeded.secretId, engine, "i-1", seeded.fingerprint);
    const writesBefore = deps.consumers.instanceWrites.length;
    const auditBefore = deps.audit.all().length;
    deps.clock.advance(290);

    const out = await report(deps, seeded.secretId, engine, "i-1", seeded.fingerprint);

    expect(out.nextHeartbeatSeconds).toBe(300);
    const row = await deps.consumers.getInstance(seeded.secretId, "engine", "i-1");
    expect(row?.expectedBy).toBe(new Date(deps.clock.now().getTime() + 300_000).toISOString());
    expect(deps.consumers.instanceWrites.length - writesBefore).toBe(1);
    expect(deps.audit.all().length).toBe(auditBefore);
  });

  it("keeps an idle instance live through its whole interval, and a fast one only through its own", async () => {
    await report(deps, seeded.secretId, engine, "idle-1", seeded.fingerprint); // told 300 s
    await startRotation(deps, seeded.secretId, "rot-1");
    await report(deps, seeded.secretId, engine, "fast-1", seeded.fingerprint); // told 5 s
    const check = () =>
      checkConsumers(
        { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1", iteration: 0 },
        deps,
      );
    await rotateToPromotedAfterStart(deps, seeded.secretId);
    const fp = await currentFingerprint(deps, seeded.secretId);

    // 40 s on: the fast instance (5 s + 30 s grace) is dead; the idle one is still live on the old key.
    deps.clock.advance(40);
    await report(deps, seeded.secretId, engine, "new-1", fp);
    expect((await check()).lagging).toEqual([
      expect.objectContaining({ consumerId: "engine", reason: "mixed-fingerprints", liveInstances: 2 }),
    ]);
    // Past 300 s + 30 s grace the idle one is not heard from: dead, no longer blocking.
    deps.clock.advance(300);
    await report(deps, seeded.secretId, engine, "new-1", fp);
    expect((await check()).lagging).toEqual([]);
  });

  it("judges rows written before expectedBy existed by the old rule (interval x multiplier)", async () => {
    const t = deps.clock.now().toISOString();
    await deps.consumers.putInstance({
      secretId: seeded.secretId,
      consumerId: "engine",
      instanceId: "old-row",
      fingerprint: seeded.fingerprint,
      firstSeenAt: t,
      lastSeenAt: t,
    });
    await rotateToPromoted(deps, seeded.secretId, "rot-1");
    const check = () =>
      checkConsumers(
        { secretId: seeded.secretId, rotationId: "rot-1", execution: "rot-1", iteration: 0 },
        deps,
      );

    deps.clock.advance(179); // 60 s interval x 3, minus a second: still live on the old key
    expect((await check()).lagging[0]).toMatchObject({ reason: "on-other-fingerprint" });
    deps.clock.advance(2);
    expect((await check()).lagging[0]).toMatchObject({ reason: "no-live-instance" });
  });
});

/** CreateNext and PromoteCurrent of the rotation a test already began (rot-1). */
async function rotateToPromotedAfterStart(deps: FakeDeps, secretId: string) {
  const { createNext } = await import("../../src/core/rotation/create-next");
  const { promoteCurrent } = await import("../../src/core/rotation/promote-current");
  await createNext({ secretId, rotationId: "rot-1" }, deps);
  await promoteCurrent({ secretId, rotationId: "rot-1" }, deps);
}

describe("heartbeat answers a fleet", () => {
  it("tells an instance on the old key to come back at once, and the refreshed one the active interval", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps, { settings: { activeHeartbeatSeconds: 5 } });
    const engine = await addConsumer(deps, seeded.secretId, "engine");
    await rotateToPromoted(deps, seeded.secretId, "rot-1");

    const old = await heartbeat(
      {
        callerArn: engine.callerArn,
        secretId: seeded.secretId,
        fingerprint: seeded.fingerprint,
        instanceId: "i",
      },
      deps,
    );
    const fresh = await report(
      deps,
      seeded.secretId,
      engine,
      "i",
      await currentFingerprint(deps, seeded.secretId),
    );

    expect([old.status, old.nextHeartbeatSeconds]).toEqual(["stale", 0]);
    expect([fresh.status, fresh.nextHeartbeatSeconds]).toEqual(["current", 5]);
  });
});

describe("enrollment: the overlap covers the longest cache TTL and the idle interval", () => {
  const enrollAgain = async (deps: FakeDeps, seeded: SeededSecret, settings: Partial<SecretSettings>) => {
    const { enrollSecret } = await import("../../src/core/operator/operator");
    const { enrolledAt: _e, ...rest } = seeded.settings;
    return enrollSecret({ ...rest, ...settings }, "operator:test", deps).catch((e: unknown) => e as Error);
  };

  it("refuses an overlap shorter than the idle interval, naming both numbers and the fix", async () => {
    const deps = makeDeps();
    const err = await seedSecret(deps, {
      settings: { minOverlapSeconds: 120, idleHeartbeatSeconds: 300 },
    }).catch((e: unknown) => e as Error);

    expect((err as Error).name).toBe("InvalidInputError");
    expect((err as Error).message).toMatch(/minOverlapSeconds 120 .*idleHeartbeatSeconds 300s.*at least 300/);
    expect(await deps.store.getSettings("keyshift/binance/main")).toBeUndefined();
  });

  it("refuses a re-enrollment whose overlap no longer covers a registered consumer's cache TTL", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps, { settings: { minOverlapSeconds: 600, idleHeartbeatSeconds: 60 } });
    await addConsumer(deps, seeded.secretId, "engine"); // cache TTL 300 s

    const refused = await enrollAgain(deps, seeded, { minOverlapSeconds: 120 });
    const accepted = await enrollAgain(deps, seeded, { minOverlapSeconds: 300 });

    expect((refused as Error).message).toMatch(
      /minOverlapSeconds 120 .*cache TTL \(300s, engine\).*idleHeartbeatSeconds 60s.*at least 300/,
    );
    expect(accepted).toMatchObject({ minOverlapSeconds: 300 });
  });

  it("refuses intervals out of order and a schedule it cannot read", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);

    expect(((await enrollAgain(deps, seeded, { activeHeartbeatSeconds: 600 })) as Error).message).toMatch(
      /activeHeartbeatSeconds \(600\) <= idleHeartbeatSeconds \(300\)/,
    );
    expect(((await enrollAgain(deps, seeded, { schedule: "every month" })) as Error).message).toMatch(
      /schedule "every month"/,
    );
    expect(await enrollAgain(deps, seeded, { schedule: "cron(0 6 ? * MON#1 *)" })).toMatchObject({
      schedule: "cron(0 6 ? * MON#1 *)",
    });
  });

  it("judges a schedule's next start by the Clock port, not the host's clock", async () => {
    // The fake clock says 2030: a schedule whose last start is in 2029 has no next start, whatever
    // year the machine running the test thinks it is.
    const deps = makeDeps({ start: "2030-01-01T00:00:00Z" });
    const seeded = await seedSecret(deps);

    const refused = await enrollAgain(deps, seeded, { schedule: "cron(0 6 1 6 ? 2029)" });

    expect((refused as Error).message).toMatch(/schedule "cron\(0 6 1 6 \? 2029\)"/);
  });
});
