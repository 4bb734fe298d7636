import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/core/errors";
import type { ConsumerInstance, ConsumerRegistration } from "../../src/core/model";
import { enrollSecret, MAX_DEADLINE_SECONDS } from "../../src/core/operator/operator";
import {
  EVENTS_PER_CHECK,
  evaluateReadiness,
  MAX_LAGGING_IN_STATE,
  MAX_WAIT_EVENTS,
  maxChecks,
  nextWaitSeconds,
} from "../../src/core/revocation/readiness";
import { DEFAULT_SETTINGS, makeDeps, seedSecret } from "./fakes";

const NOW = new Date("2030-01-01T12:00:00.000Z");
const PROMOTED = new Date("2030-01-01T11:00:00.000Z");
const CURRENT = "fp1_00000000000000c1";
const PREVIOUS = "fp1_00000000000000b0";
const SETTINGS = { minOverlapSeconds: 300, livenessMultiplier: 3 };

function consumer(consumerId: string, opts: Partial<ConsumerRegistration> = {}): ConsumerRegistration {
  return {
    secretId: "s",
    consumerId,
    principalArn: `arn:aws:iam::123456789012:role/${consumerId}`,
    cacheTtlSeconds: 300,
    heartbeatIntervalSeconds: 60,
    required: true,
    registeredAt: "2030-01-01T00:00:00.000Z",
    ...opts,
  };
}

function instance(consumerId: string, instanceId: string, fp: string, secondsAgo = 10): ConsumerInstance {
  const lastSeenAt = new Date(NOW.getTime() - secondsAgo * 1000).toISOString();
  return { secretId: "s", consumerId, instanceId, fingerprint: fp, firstSeenAt: lastSeenAt, lastSeenAt };
}

function evaluate(consumers: ConsumerRegistration[], instances: ConsumerInstance[], promotedAt = PROMOTED) {
  return evaluateReadiness({
    consumers,
    instances,
    currentFingerprint: CURRENT,
    promotedAt,
    settings: SETTINGS,
    now: NOW,
  });
}

describe("evaluateReadiness", () => {
  it("is ready when every required consumer is live on current and the overlap has passed", () => {
    const result = evaluate(
      [consumer("engine"), consumer("gateway")],
      [
        instance("engine", "i1", CURRENT),
        instance("engine", "i2", CURRENT),
        instance("gateway", "g1", CURRENT),
      ],
    );

    expect(result).toEqual({ ready: true, lagging: [], laggingCount: 0, overlapRemainingSeconds: 0 });
  });

  it("treats silence as lagging: a required consumer with no instance is no-live-instance", () => {
    const result = evaluate([consumer("engine"), consumer("silent")], [instance("engine", "i1", CURRENT)]);

    expect(result.ready).toBe(false);
    expect(result.lagging).toEqual([
      { consumerId: "silent", reason: "no-live-instance", liveInstances: 0, fingerprints: [] },
    ]);
  });

  it("does not count a heartbeat older than interval × multiplier as live", () => {
    // 60 s interval × 3 = 180 s: 181 s ago is dead, 180 s ago still counts.
    const stale = evaluate([consumer("engine")], [instance("engine", "i1", CURRENT, 181)]);
    const edge = evaluate([consumer("engine")], [instance("engine", "i1", CURRENT, 180)]);

    expect(stale.ready).toBe(false);
    expect(stale.lagging[0]).toMatchObject({ consumerId: "engine", reason: "no-live-instance" });
    expect(edge.ready).toBe(true);
  });

  it("ignores a dead instance on the old key once a live one reports current", () => {
    const result = evaluate(
      [consumer("engine")],
      [instance("engine", "old", PREVIOUS, 3600), instance("engine", "new", CURRENT)],
    );

    expect(result.ready).toBe(true);
  });

  it("is lagging with mixed-fingerprints when live instances disagree, on-other-fingerprint when none is current", () => {
    const result = evaluate(
      [consumer("engine"), consumer("gateway")],
      [
        instance("engine", "i1", CURRENT),
        instance("engine", "i2", PREVIOUS),
        instance("gateway", "g1", PREVIOUS),
        instance("gateway", "g2", PREVIOUS),
      ],
    );

    expect(result.ready).toBe(false);
    expect(result.lagging).toEqual([
      {
        consumerId: "engine",
        reason: "mixed-fingerprints",
        liveInstances: 2,
        fingerprints: [CURRENT, PREVIOUS].sort(),
      },
      { consumerId: "gateway", reason: "on-other-fingerprint", liveInstances: 2, fingerprints: [PREVIOUS] },
    ]);
  });

  it("does not gate on a consumer that is not required", () => {
    const result = evaluate(
      [consumer("engine"), consumer("reporting", { required: false })],
      [instance("engine", "i1", CURRENT), instance("reporting", "r1", PREVIOUS)],
    );

    expect(result.ready).toBe(true);
    expect(result.laggingCount).toBe(0);
  });

  it("is not ready before minOverlapSeconds have passed since promotion, and says how long is left", () => {
    const promotedAt = new Date(NOW.getTime() - 100_000);
    const result = evaluate([consumer("engine")], [instance("engine", "i1", CURRENT)], promotedAt);

    expect(result).toMatchObject({ ready: false, laggingCount: 0, overlapRemainingSeconds: 200 });
  });

  it("carries at most MAX_LAGGING_IN_STATE lagging consumers, sorted, and counts them all", () => {
    const many = Array.from({ length: MAX_LAGGING_IN_STATE + 15 }, (_, i) =>
      consumer(`c${String(i).padStart(3, "0")}`),
    );
    const result = evaluate(many, []);

    expect(result.lagging).toHaveLength(MAX_LAGGING_IN_STATE);
    expect(result.laggingCount).toBe(MAX_LAGGING_IN_STATE + 15);
    expect(result.lagging[0]?.consumerId).toBe("c000");
    expect(result.lagging.at(-1)?.consumerId).toBe(`c${String(MAX_LAGGING_IN_STATE - 1).padStart(3, "0")}`);
  });

  it("reports at most three fingerprints per lagging consumer", () => {
    const fps = [
      "fp1_000000000000000a",
      "fp1_000000000000000b",
      "fp1_000000000000000c",
      "fp1_000000000000000d",
    ];
    const result = evaluate(
      [consumer("engine")],
      fps.map((fp, i) => instance("engine", `i${i}`, fp)),
    );

    expect(result.lagging[0]?.fingerprints).toEqual(fps.slice(0, 3));
    expect(result.lagging[0]?.liveInstances).toBe(4);
  });
});

describe("nextWaitSeconds", () => {
  const poll = { pollIntervalSeconds: 30, maxPollIntervalSeconds: 600 };

  it("starts at the poll interval, grows 1.5x per check and caps at maxPollIntervalSeconds", () => {
    const waits = Array.from({ length: 12 }, (_, i) => nextWaitSeconds(poll, i, 1e9, 0));

    expect(waits.slice(0, 4)).toEqual([30, 45, 68, 102]);
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1] ?? 0);
    expect(Math.max(...waits)).toBe(600);
    expect(waits.at(-1)).toBe(600);
  });

  it("never waits past the deadline, and never less than 1 s", () => {
    expect(nextWaitSeconds(poll, 20, 42, 0)).toBe(42);
    expect(nextWaitSeconds(poll, 0, 5, 0)).toBe(5);
    expect(nextWaitSeconds(poll, 0, 0, 0)).toBe(1);
    expect(nextWaitSeconds(poll, 0, -30, 0)).toBe(1);
  });

  it("wakes up when the overlap ends if that comes first", () => {
    expect(nextWaitSeconds(poll, 10, 1e9, 7)).toBe(7);
    expect(nextWaitSeconds(poll, 0, 1e9, 500)).toBe(30);
  });

  it("never exceeds the deadline over a whole wait", () => {
    const settings = { ...poll, deadlineSeconds: 7_777 };
    let elapsed = 0;
    for (let i = 0; elapsed < settings.deadlineSeconds; i++) {
      const wait = nextWaitSeconds(settings, i, settings.deadlineSeconds - elapsed, 0);
      expect(elapsed + wait).toBeLessThanOrEqual(settings.deadlineSeconds);
      elapsed += wait;
    }
    expect(elapsed).toBe(settings.deadlineSeconds);
  });
});

describe("maxChecks and the execution-history budget", () => {
  it("stays far under the 2,000-check budget for the default settings and for a 14-day deadline", () => {
    expect(maxChecks(DEFAULT_SETTINGS)).toBeLessThan(2000);
    expect(maxChecks({ ...DEFAULT_SETTINGS, deadlineSeconds: 14 * 86_400 })).toBeLessThan(2000);
    expect(MAX_WAIT_EVENTS / EVENTS_PER_CHECK).toBe(2000);
  });

  it("counts one check per wait plus the final one", () => {
    // Fixed 60 s interval over 600 s: checks at 0, 60, …, 600.
    expect(maxChecks({ pollIntervalSeconds: 60, maxPollIntervalSeconds: 60, deadlineSeconds: 600 })).toBe(11);
  });

  it("enrollSecret accepts exactly the budget and rejects one check more", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    const base = { ...DEFAULT_SETTINGS, secretId: seeded.secretId, exchangeAccount: seeded.account };
    const fixed = { pollIntervalSeconds: 60, maxPollIntervalSeconds: 60 };

    // 1999 waits of 60 s → 2000 checks × 10 events = 20,000: at the budget.
    await expect(
      enrollSecret({ ...base, ...fixed, deadlineSeconds: 1999 * 60 }, "op", deps),
    ).resolves.toMatchObject({
      deadlineSeconds: 1999 * 60,
    });
    const over = enrollSecret({ ...base, ...fixed, deadlineSeconds: 2000 * 60 }, "op", deps);
    await expect(over).rejects.toBeInstanceOf(InvalidInputError);
    await expect(over).rejects.toThrow(/maxPollIntervalSeconds/);
    expect((await deps.store.getSettings(seeded.secretId))?.deadlineSeconds).toBe(1999 * 60);
  });

  it("enrollSecret rejects a deadline the execution's TimeoutSeconds would cut short", async () => {
    const deps = makeDeps();
    const seeded = await seedSecret(deps);
    const base = { ...DEFAULT_SETTINGS, secretId: seeded.secretId, exchangeAccount: seeded.account };
    const slow = { pollIntervalSeconds: 600, maxPollIntervalSeconds: 3600 };

    await expect(
      enrollSecret({ ...base, ...slow, deadlineSeconds: MAX_DEADLINE_SECONDS }, "op", deps),
    ).resolves.toBeDefined();
    const over = enrollSecret({ ...base, ...slow, deadlineSeconds: MAX_DEADLINE_SECONDS + 1 }, "op", deps);
    await expect(over).rejects.toThrow(/TimeoutSeconds/);
  });
});

/** Runs `code` (an ES module body) in its own Node process, so a loop that never ends fails the test instead of hanging it. */
function runBounded(
  code: string,
  timeoutMs = 15_000,
): { status: number | null; signal: string | null; stdout: string } {
  const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { status: run.status, signal: run.signal, stdout: run.stdout };
}

/** The counting loop `maxChecks` used to be: one step per wait. The oracle for the closed form. */
function countEveryWait(s: {
  pollIntervalSeconds: number;
  maxPollIntervalSeconds: number;
  deadlineSeconds: number;
}) {
  let elapsed = 0;
  let checks = 0;
  while (elapsed < s.deadlineSeconds) {
    elapsed += nextWaitSeconds(s, checks, s.deadlineSeconds - elapsed, 0);
    checks += 1;
  }
  return checks + 1;
}

/** Small deterministic PRNG (mulberry32): the same cases on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe("break 15: maxChecks is bounded by construction", () => {
  it("break 15: answers at once for deadlines of 1e11 s and beyond, and the answer is over the budget", () => {
    const cases = [
      { pollIntervalSeconds: 30, maxPollIntervalSeconds: 900, deadlineSeconds: 1e11 },
      { pollIntervalSeconds: 60, maxPollIntervalSeconds: 60, deadlineSeconds: 1e11 },
      { pollIntervalSeconds: 1, maxPollIntervalSeconds: 1, deadlineSeconds: 1e18 },
      { pollIntervalSeconds: 0, maxPollIntervalSeconds: 0, deadlineSeconds: 1e12 },
      { pollIntervalSeconds: 30, maxPollIntervalSeconds: 900, deadlineSeconds: Number.MAX_VALUE },
    ];
    const started = Date.now();
    const run = runBounded(
      `const { maxChecks } = await import(${JSON.stringify(`${process.cwd()}/src/core/revocation/readiness.ts`)});
       console.log(JSON.stringify(${JSON.stringify(cases)}.map((s) => maxChecks(s))));`,
    );

    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const checks = JSON.parse(run.stdout) as number[];
    // The old loop's own answer for the first case (it took seconds to count it).
    expect(checks[0]).toBe(111_111_119);
    for (const n of checks) expect(n).toBeGreaterThan(MAX_WAIT_EVENTS / EVENTS_PER_CHECK);
  });

  it("gives exactly what counting every wait gives, over random settings", () => {
    const random = seeded(15);
    for (let i = 0; i < 2000; i++) {
      const poll = 1 + Math.floor(random() * (random() < 0.5 ? 10 : 3600));
      const settings = {
        pollIntervalSeconds: poll,
        maxPollIntervalSeconds: poll + Math.floor(random() * (random() < 0.5 ? 100 : 7200)),
        deadlineSeconds: Math.floor(random() * (random() < 0.5 ? 3600 : 2_000_000)),
      };

      expect(maxChecks(settings), JSON.stringify(settings)).toBe(countEveryWait(settings));
    }
  });

  it("break 15: one deadline bound for the config check and enroll: 13 days, defined in revocation/readiness.ts", async () => {
    const readiness = await import("../../src/core/revocation/readiness");

    expect(readiness.MAX_DEADLINE_SECONDS).toBe(1_123_200);
    expect(MAX_DEADLINE_SECONDS).toBe(readiness.MAX_DEADLINE_SECONDS);
  });
});
