import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuildOptions, build } from "esbuild";
import { parse } from "yaml";
import { median, round } from "./support";

const ROOT = join(import.meta.dirname, "..");

/** Enough configuration for every handler's cold start (`loadConfig()` at module scope). */
const LAMBDA_ENV = {
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  KEYSHIFT_TABLE_CONSUMERS: "keyshift-bench-consumers",
  KEYSHIFT_TABLE_ROTATIONS: "keyshift-bench-rotations",
  KEYSHIFT_TABLE_LEDGER: "keyshift-bench-ledger",
  KEYSHIFT_TABLE_AUDIT: "keyshift-bench-audit",
  KEYSHIFT_ALERT_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:keyshift-bench-alerts",
  KEYSHIFT_ADMIN_SECRET_PREFIX: "keyshift/admin/",
  KEYSHIFT_REVOCATION_MAX_ATTEMPTS: "3",
  KEYSHIFT_REVOCATION_BASE_SECONDS: "1",
  KEYSHIFT_REVOCATION_CAP_SECONDS: "2",
  KEYSHIFT_EXCHANGE_TIMEOUT_MS: "100",
  POWERTOOLS_LOG_LEVEL: "SILENT",
};

/** The esbuild options serverless-esbuild derives from `custom.esbuild` in serverless.yml. */
function esbuildOptions(): BuildOptions {
  const sls = parse(readFileSync(join(ROOT, "serverless.yml"), "utf8")) as {
    custom: { esbuild: Record<string, unknown> };
  };
  const e = sls.custom.esbuild;
  return {
    bundle: e.bundle as boolean,
    minify: e.minify as boolean,
    treeShaking: e.treeShaking as boolean,
    keepNames: e.keepNames as boolean,
    sourcemap: e.sourcemap as boolean,
    target: e.target as string,
    platform: e.platform as "node",
    format: e.format as "esm",
    mainFields: e.mainFields as string[],
    banner: e.banner as Record<string, string>,
    outExtension: { ".js": String(e.outputFileExtension) },
    logLevel: "silent",
  };
}

const SERVERLESS = join(ROOT, "node_modules", "osls", "bin", "serverless.js");

export interface Bundled {
  dir: string;
  files: Record<string, string>;
  zipKB: Record<string, number>;
}

/**
 * The functions exactly as deployed: `serverless package` (offline, no credentials) bundles each
 * handler with serverless-esbuild and zips it; each zip is measured and unpacked for the cold-init
 * probe. The minimal handler is bundled with the same esbuild options (`custom.esbuild`).
 */
export async function bundleAll(): Promise<Bundled> {
  const dir = mkdtempSync(join(tmpdir(), "keyshift-bench-bundles-"));
  const packageDir = join(dir, "package");
  await new Promise<void>((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SLS_TELEMETRY_DISABLED: "1",
      SLS_NOTIFICATIONS_MODE: "off",
    };
    for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"])
      delete env[k];
    execFile(
      process.execPath,
      [SERVERLESS, "package", "--stage", "dev", "--package", packageDir],
      { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`serverless package failed:\n${stdout}${stderr}`)) : resolve(),
    );
  });
  const functions = parse(readFileSync(join(ROOT, "infra", "functions.yml"), "utf8")) as Record<
    string,
    { handler: string }
  >;
  const files: Record<string, string> = {};
  const zipKB: Record<string, number> = {};
  for (const [name, fn] of Object.entries(functions)) {
    const zip = join(packageDir, `${name}.zip`);
    zipKB[name] = round(statSync(zip).size / 1024, 1);
    const out = join(dir, name);
    execFileSync("unzip", ["-q", "-o", zip, "-d", out]);
    files[name] = join(out, `${fn.handler.slice(0, fn.handler.lastIndexOf("."))}.mjs`);
  }
  const minimal = join(dir, "minimal");
  await build({
    ...esbuildOptions(),
    entryPoints: [join(ROOT, "bench", "minimal-handler.ts")],
    outdir: minimal,
  });
  files.minimal = join(minimal, "minimal-handler.mjs");
  execFileSync("zip", ["-q", "-X", "-j", join(dir, "minimal.zip"), files.minimal]);
  zipKB.minimal = round(statSync(join(dir, "minimal.zip")).size / 1024, 1);
  return { dir, files, zipKB };
}

/**
 * CPU time (user + system) the import takes, not wall time: on a shared machine the wall clock
 * mostly measures the neighbours; the work our code makes the process do is what Lambda's init
 * phase pays for. Also the whole process's CPU time up to then (Node's own start included, as in
 * Lambda's Init Duration).
 */
const PROBE = `
const cpu = process.cpuUsage();
await import(process.argv[1]);
const used = process.cpuUsage(cpu);
const all = process.cpuUsage();
process.stdout.write("INIT " + ((used.user + used.system) / 1000).toFixed(2) + " " + ((all.user + all.system) / 1000).toFixed(2) + "\\n");
`;

function initOnce(file: string): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", PROBE, file],
      { env: { PATH: process.env.PATH, ...LAMBDA_ENV } },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        const line = stdout.split("\n").find((l) => l.startsWith("INIT "));
        if (!line) return reject(new Error(`no INIT line from ${file}: ${stdout}${stderr}`));
        const [importMs = 0, processMs = 0] = line.slice(5).split(" ").map(Number);
        resolve([importMs, processMs]);
      },
    );
  });
}

/** Median per bundle, and each handler's ratio to the minimal bundle's median. */
function ratiosOf(samples: Record<string, number[]>) {
  const medians = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, round(median(v), 1)]));
  const minimal = medians.minimal ?? 1;
  const ratios = Object.fromEntries(
    Object.entries(medians)
      .filter(([k]) => k !== "minimal")
      .map(([k, v]) => [k, round(v / minimal)]),
  );
  const [worst, worstRatio] = Object.entries(ratios).sort((a, b) => b[1] - a[1])[0] ?? ["none", 0];
  return { worstRatio, worst, minimalMs: minimal, medianMs: medians, ratios };
}

/**
 * coldInitVsMinimalWorst: the CPU time to import (load and evaluate) each bundled handler in a fresh
 * `node` process — what Lambda's init phase spends on our code — against the minimal bundle,
 * `runs` times each, interleaved, median. The worst handler's ratio is the figure; the same with
 * Node's own start counted is beside it (`withNodeStart`).
 */
export async function coldInit(bundled: Bundled, runs = 11) {
  const imports: Record<string, number[]> = {};
  const processes: Record<string, number[]> = {};
  for (let r = 0; r < runs; r++) {
    for (const [name, file] of Object.entries(bundled.files)) {
      const [importMs, processMs] = await initOnce(file);
      imports[name] = [...(imports[name] ?? []), importMs];
      processes[name] = [...(processes[name] ?? []), processMs];
    }
  }
  return { ...ratiosOf(imports), runs, withNodeStart: ratiosOf(processes) };
}

export function largestZip(bundled: Bundled) {
  const { minimal: _m, ...functions } = bundled.zipKB;
  const [largest, kb] = Object.entries(functions).sort((a, b) => b[1] - a[1])[0] ?? ["none", 0];
  return { largestKB: kb, largest, zipKB: functions, minimalKB: bundled.zipKB.minimal };
}

export function cleanUp(bundled: Bundled): void {
  rmSync(bundled.dir, { recursive: true, force: true });
}
