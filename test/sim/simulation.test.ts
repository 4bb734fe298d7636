/**
 * The deterministic simulation as a test. The batch below is CI-sized; on a core with known bugs it
 * fails, naming the first failing seed (replay it with `npm run sim -- --seed S`). Skip it with
 * SIM_SKIP=1 while such a core is being fixed elsewhere.
 */
import { describe, expect, it } from "vitest";
import { runSeed } from "../../harness/sim/runner";

const SEEDS = Number(process.env.SIM_SEEDS ?? 200);
/** Every operator command the simulation must drive (issue 14, "Drive every command"). */
const DRIVEN = [
  "resume",
  "rollback",
  "forceRevoke",
  "retry",
  "restore",
  "register",
  "remove",
  "emergency",
  "reenroll",
] as const;

describe("deterministic simulation", () => {
  it("replays a seed bit for bit (same trace digest, same outcome)", async () => {
    const first = await runSeed(7);
    const second = await runSeed(7);
    expect(second.digest).toBe(first.digest);
    expect(second.traceTail).toEqual(first.traceTail);
    expect(second.violations).toEqual(first.violations);
    expect(second.operatorCommandsByKind).toEqual(first.operatorCommandsByKind);
    expect(first.events).toBeGreaterThan(100);
  });

  it.skipIf(process.env.SIM_SKIP === "1")(
    `${SEEDS} seeds keep I1–I8`,
    async () => {
      const failures: string[] = [];
      const tried: Record<string, number> = {};
      const succeeded: Record<string, number> = {};
      for (let seed = 1; seed <= SEEDS; seed++) {
        const r = await runSeed(seed);
        for (const [k, n] of Object.entries(r.operatorCommandsByKind)) tried[k] = (tried[k] ?? 0) + (n ?? 0);
        for (const [k, n] of Object.entries(r.operatorCommandsOkByKind))
          succeeded[k] = (succeeded[k] ?? 0) + (n ?? 0);
        for (const v of r.violations) failures.push(`seed ${seed} ${v.invariant}: ${v.message}`);
        if (r.violations.length === 0 && r.orphans > 0)
          failures.push(`seed ${seed}: ${r.orphans} orphan key(s)`);
        // I2 is judged at quiescence: a world that never settles could hide an orphan.
        if (r.violations.length === 0 && !r.quiesced) failures.push(`seed ${seed}: did not settle`);
      }
      expect(failures, `replay with: npm run sim -- --seed <seed>`).toEqual([]);
      // A command the batch never runs (or never gets through) is a path nothing checks.
      if (SEEDS >= 200) {
        for (const kind of DRIVEN) {
          expect(tried[kind] ?? 0, `${kind} attempted`).toBeGreaterThan(0);
          expect(succeeded[kind] ?? 0, `${kind} succeeded`).toBeGreaterThan(0);
        }
      }
    },
    600_000,
  );
});
