import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = join(import.meta.dirname, "..", "..");
const RESULTS = join(ROOT, "harness", "bench", "results.json");

/** The documented command, through npm as a user types it. */
function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", "bench", "--", ...args], { cwd: ROOT, env: process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const finite = (v: unknown) => typeof v === "number" && Number.isFinite(v);

describe("npm run bench -- --smoke (every bench step at a toy size)", () => {
  it("runs every section to its figures, and leaves results.json alone", { timeout: 480_000 }, async () => {
    const before = readFileSync(RESULTS, "utf8");

    const run = await bench("--smoke", "--json");

    // A section that throws (a bundle that refuses to load, a missing file) ends the run non-zero.
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}");
    for (const key of [
      "heartbeatVsPutItem",
      "heartbeatVsItsUpdateItem",
      "costPer1000InstancesMonthUSD",
      "gateVsQuery10k",
      "confirmationSecondsAfterCacheTtl",
      "coldInitVsMinimalWorst",
      "largestZipKB",
      "misuseRecallGoalKindsMin",
      "misuseFalseFindingsPer10KeyWeeks",
      "misuseDetectorSeconds10kKeys8Weeks",
    ]) {
      expect(finite(out[key]), `${key} = ${out[key]}`).toBe(true);
    }
    // fleet-apply: apply of the toy fleet, re-run changing nothing; the template the same for 2 and for it.
    expect(finite(out.fleet.applySeconds10k)).toBe(true);
    expect(out.details.fleetApply.apply.again.changed).toBe(0);
    expect(new Set(Object.values(out.fleet.templateResources)).size).toBe(1);
    expect(out.fleetSwitchUnrecordedChanges).toBe(0);
    expect(out.fleetSwitchRotationStepFailures).toBe(0);
    expect(finite(out.details.sweeper.scanOverIndex)).toBe(true);
    // The heartbeat's rounds ran in their own processes and each produced a ratio.
    expect(out.details.heartbeat.heartbeatVsItsUpdateItemByRound.every(finite)).toBe(true);
    // Every deployed function was bundled, zipped and imported with its deployed environment.
    const functions = Object.keys(parse(readFileSync(join(ROOT, "infra", "functions.yml"), "utf8")));
    expect(Object.keys(out.details.coldInit.medianMs).sort()).toEqual([...functions, "minimal"].sort());
    expect(Object.keys(out.details.zips.zipKB).sort()).toEqual([...functions].sort());
    // Toy figures never overwrite the measured ones.
    expect(readFileSync(RESULTS, "utf8")).toBe(before);
  });
});
