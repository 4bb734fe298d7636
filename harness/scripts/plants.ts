/**
 * Planted bugs, replayable: each `harness/scripts/plants/*.patch` is a small `git diff` that plants a bug in
 * `src/core`. For each one: a temporary git worktree of HEAD (node_modules symlinked), the patch
 * applied, the simulation batch run in it, the worktree removed. A plant is caught when the batch
 * reports at least one violation (a seed that does not settle is shown, but is not a catch).
 *   npm run plants [-- --seeds 200] [--start 1] [--only p3] [--json]
 * Commit first: the worktree is of HEAD, not of the working tree. Exits 1 when a plant is not caught.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, symlinkSync } from "node:fs";
import { join, resolve } from "node:path";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface PlantResult {
  plant: string;
  caught: boolean;
  violations: number;
  notQuiesced: number;
  firstSeed: number | null;
  signature: string | null;
  signatures: Record<string, { seed: number; count: number }>;
  error?: string;
}

const root = resolve(import.meta.dirname, "..", "..");
const git = (args: string[], cwd = root) => {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout;
};

/** `{ firstBySignature }` as harness/scripts/sim.ts prints it on stderr (pretty JSON from a line "{"). */
function signaturesOf(stderr: string): Record<string, { seed: number; count: number }> {
  const start = stderr.indexOf('{\n  "firstBySignature"');
  if (start < 0) return {};
  const end = stderr.indexOf("\n}", start);
  try {
    const parsed = JSON.parse(stderr.slice(start, end + 2)) as {
      firstBySignature: Record<string, { seed: number; count: number }>;
    };
    return parsed.firstBySignature;
  } catch {
    return {};
  }
}

function runPlant(patch: string, seeds: number, start: number): PlantResult {
  const plant = patch.replace(/\.patch$/, "");
  const dir = `/tmp/keyshift-plant-${plant}-${process.pid}`;
  const result: PlantResult = {
    plant,
    caught: false,
    violations: 0,
    notQuiesced: 0,
    firstSeed: null,
    signature: null,
    signatures: {},
  };
  git(["worktree", "add", "--detach", dir, "HEAD"]);
  try {
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
    git(["apply", join(root, "harness", "scripts", "plants", patch)], dir);
    const sim = spawnSync(
      "npx",
      ["tsx", "harness/scripts/sim.ts", "--seeds", String(seeds), "--start", String(start), "--json"],
      { cwd: dir, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
    );
    const line = sim.stdout.trim().split("\n").at(-1) ?? "";
    const summary = JSON.parse(line) as { violations: number; notQuiesced: number };
    result.violations = summary.violations;
    result.notQuiesced = summary.notQuiesced;
    result.signatures = signaturesOf(sim.stderr);
    const first = Object.entries(result.signatures).sort((a, b) => a[1].seed - b[1].seed)[0];
    result.caught = summary.violations > 0;
    result.firstSeed = first?.[1].seed ?? null;
    result.signature = first?.[0] ?? null;
  } catch (err) {
    result.error = (err as Error).message.slice(0, 500);
  } finally {
    spawnSync("git", ["worktree", "remove", "--force", dir], { cwd: root });
  }
  return result;
}

function main(): number {
  const seeds = Number(arg("seeds") ?? 200);
  const start = Number(arg("start") ?? 1);
  const only = arg("only");
  const json = process.argv.includes("--json");
  if (git(["status", "--porcelain", "--", "src", "functions", "harness"]).trim())
    console.error("[plants] note: uncommitted changes are not in the plants' worktrees (HEAD is used)");
  const patches = readdirSync(join(root, "harness", "scripts", "plants"))
    .filter((f) => f.endsWith(".patch") && (!only || f.includes(only)))
    .sort();
  const results: PlantResult[] = [];
  for (const patch of patches) {
    if (!existsSync(join(root, "harness", "scripts", "plants", patch))) continue;
    console.error(`[plants] ${patch}: ${seeds} seeds from ${start}…`);
    const r = runPlant(patch, seeds, start);
    console.error(
      `[plants] ${r.plant}: ${r.caught ? "caught" : "NOT caught"} (${r.violations} violations, ${r.notQuiesced} unsettled)${r.error ? ` error: ${r.error}` : ""}`,
    );
    results.push(r);
  }
  if (json) console.log(JSON.stringify({ seeds, start, plants: results }));
  else {
    console.log("| plant | caught | first seed | signature | violations | unsettled |");
    console.log("|---|---|---|---|---|---|");
    for (const r of results)
      console.log(
        `| ${r.plant} | ${r.caught ? "yes" : "no"} | ${r.firstSeed ?? "—"} | ${r.signature ?? r.error ?? "—"} | ${r.violations} | ${r.notQuiesced} |`,
      );
  }
  return results.every((r) => r.caught) ? 0 : 1;
}

process.exit(main());
