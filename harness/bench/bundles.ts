import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { type BuildOptions, build } from "esbuild";
import { parse } from "yaml";
import { median, round } from "./support";

const ROOT = join(import.meta.dirname, "..", "..");

/**
 * What the Lambda runtime itself puts in every function's environment (region, the role's session
 * credentials, the function's name and memory); the function's own variables come from the
 * packaged template, as deployment sets them.
 */
function runtimeEnv(functionName: string, memoryMB: number): Record<string, string> {
  return {
    AWS_REGION: "eu-west-1",
    AWS_DEFAULT_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "ASIABENCH",
    AWS_SECRET_ACCESS_KEY: "bench",
    AWS_SESSION_TOKEN: "bench",
    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMB),
  };
}

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}

/**
 * A value CloudFormation fills in at deploy time (`Ref` of the alert topic, `Fn::GetAtt` of a
 * role's Arn), stood in for by an ARN of the same shape. Anything else is refused by name: a new
 * kind of variable must be taught here rather than silently left out (which is how this
 * benchmark once broke: secret-read's reader roles were missing and its bundle refused to load).
 */
function deployTimeValue(key: string, value: unknown, resources: Record<string, CfnResource>): string {
  if (typeof value === "string" || typeof value === "number") return String(value);
  const join = (value as { "Fn::Join"?: [string, unknown[]] })["Fn::Join"];
  if (join) return join[1].map((part) => deployTimeValue(key, part, resources)).join(join[0]);
  const v = value as { Ref?: string; "Fn::GetAtt"?: [string, string] };
  const [id, attribute] = v.Ref ? [v.Ref, "Ref"] : (v["Fn::GetAtt"] ?? ["", ""]);
  const type = resources[id]?.Type;
  if (type === "AWS::SNS::Topic" && attribute === "Ref") return `arn:aws:sns:eu-west-1:123456789012:${id}`;
  if (type === "AWS::IAM::Role" && attribute === "Arn") return `arn:aws:iam::123456789012:role/${id}`;
  if (type === "AWS::StepFunctions::StateMachine" && attribute === "Ref")
    return `arn:aws:states:eu-west-1:123456789012:stateMachine:${id}`;
  if (type === "AWS::S3::Bucket" && attribute === "Ref") return id.toLowerCase();
  if (type === "AWS::Scheduler::ScheduleGroup" && attribute === "Ref") return "keyshift-bench-rotations";
  if (type === "AWS::SQS::Queue" && attribute === "Arn") return `arn:aws:sqs:eu-west-1:123456789012:${id}`;
  // The operator API's prover (KEYSHIFT_PROVE_DELETED_FUNCTION): a function's Ref is its name.
  if (type === "AWS::Lambda::Function" && attribute === "Ref") return `keyshift-bench-${id}`;
  throw new Error(`bench: no stand-in for ${key} = ${JSON.stringify(value)} (${type ?? "unknown resource"})`);
}

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
  /** Each function's environment as deployed (the template's variables, the runtime's own). */
  env: Record<string, Record<string, string>>;
}

/**
 * The functions exactly as deployed: `serverless package` (offline, no credentials) bundles each
 * handler with serverless-esbuild and zips it; each zip is measured and unpacked for the cold-init
 * probe. The minimal handler is bundled with the same esbuild options (`custom.esbuild`).
 */
export async function bundleAll(root?: string): Promise<Bundled> {
  // Never package in the checkout itself: two `serverless package` runs at once in one checkout
  // share serverless-esbuild's work folder and corrupt each other's zips (the bench smoke runs
  // beside the deploy tests under `npm test`).
  const copy = root === undefined ? workingCopy() : undefined;
  try {
    return await bundleIn(root ?? (copy as { root: string }).root);
  } finally {
    copy?.remove();
  }
}

/** What `serverless package` reads, copied from the working tree (uncommitted changes included). */
const SERVICE_FILES = [
  "serverless.yml",
  "package.json",
  "tsconfig.json",
  "rotation.config.yml",
  "functions",
  "src",
  "infra",
  "statemachines",
  "packages",
];

/** The working tree's service files in a scratch directory with the same node_modules. */
export function workingCopy(): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), "keyshift-bench-tree-"));
  for (const entry of SERVICE_FILES) {
    if (existsSync(join(ROOT, entry)))
      cpSync(join(ROOT, entry), join(root, entry), {
        recursive: true,
        filter: (src) => !src.includes(`${sep}node_modules`) && !src.includes(`${sep}dist`),
      });
  }
  symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

async function bundleIn(root: string): Promise<Bundled> {
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
      { cwd: root, env, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`serverless package failed:\n${stdout}${stderr}`)) : resolve(),
    );
  });
  const template = JSON.parse(
    readFileSync(join(packageDir, "cloudformation-template-update-stack.json"), "utf8"),
  ) as { Resources: Record<string, CfnResource> };
  const functions = parse(readFileSync(join(root, "infra", "functions.yml"), "utf8")) as Record<
    string,
    { handler: string }
  >;
  const files: Record<string, string> = {};
  const zipKB: Record<string, number> = {};
  const env: Record<string, Record<string, string>> = {};
  for (const [name, fn] of Object.entries(functions)) {
    const resource = template.Resources[`${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`];
    if (resource?.Type !== "AWS::Lambda::Function") throw new Error(`bench: no Lambda function for ${name}`);
    const props = resource.Properties as {
      FunctionName: string;
      MemorySize: number;
      Environment?: { Variables?: Record<string, unknown> };
    };
    const variables = Object.entries(props.Environment?.Variables ?? {}).map(([k, v]) => [
      k,
      deployTimeValue(k, v, template.Resources),
    ]);
    env[name] = { ...runtimeEnv(props.FunctionName, props.MemorySize), ...Object.fromEntries(variables) };
    const zip = join(packageDir, `${name}.zip`);
    zipKB[name] = round(statSync(zip).size / 1024, 1);
    const out = join(dir, name);
    execFileSync("unzip", ["-q", "-o", zip, "-d", out]);
    files[name] = join(out, `${fn.handler.slice(0, fn.handler.lastIndexOf("."))}.mjs`);
  }
  const minimal = join(dir, "minimal");
  await build({
    ...esbuildOptions(),
    entryPoints: [join(import.meta.dirname, "minimal-handler.ts")],
    outdir: minimal,
  });
  files.minimal = join(minimal, "minimal-handler.mjs");
  execFileSync("zip", ["-q", "-X", "-j", join(dir, "minimal.zip"), files.minimal]);
  zipKB.minimal = round(statSync(join(dir, "minimal.zip")).size / 1024, 1);
  // The floor: the same runtime, none of our variables (it reads none).
  env.minimal = runtimeEnv("keyshift-bench-minimal", 512);
  return { dir, files, zipKB, env };
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

function initOnce(file: string, env: Record<string, string>): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", PROBE, file],
      { env: { PATH: process.env.PATH, ...env } },
      (error, stdout, stderr) => {
        // Node echoes the failing (minified, one-line) source: keep the error lines, not the bundle.
        const errors = stderr
          .split("\n")
          .filter((l) => /^\w*Error\b|^\s+at /.test(l))
          .map((l) => l.slice(0, 300));
        if (error) return reject(new Error(`${file} failed to load:\n${errors.join("\n")}`));
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
  return {
    ...worstOf(ratios, (name) => !name.startsWith("before:")),
    minimalMs: minimal,
    medianMs: medians,
    ratios,
  };
}

/** The highest ratio among the bundles `counted` keeps (a baseline's do not count). */
export function worstOf(ratios: Record<string, number>, counted: (name: string) => boolean) {
  const [worst, worstRatio] = Object.entries(ratios)
    .filter(([name]) => counted(name))
    .sort((a, b) => b[1] - a[1])[0] ?? ["none", 0];
  return { worst, worstRatio };
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
      const [importMs, processMs] = await initOnce(file, bundled.env[name] ?? {});
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

/**
 * The tree of another commit (`--baseline main`), unpacked beside this one with the same
 * node_modules, to be packaged and measured in the same run: before and after side by side.
 */
export function checkout(ref: string): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), "keyshift-bench-baseline-"));
  execFileSync("sh", ["-c", `git archive --format=tar "$1" | tar -x -C "$2"`, "sh", ref, root], {
    cwd: ROOT,
  });
  symlinkSync(join(ROOT, "node_modules"), join(root, "node_modules"));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Another bundle set measured in the same interleaved runs, its names prefixed (`before:heartbeat`). */
export function withBaseline(bundled: Bundled, baseline: Bundled, prefix = "before:"): Bundled {
  const { minimal: _f, ...files } = baseline.files;
  const { minimal: _e, ...env } = baseline.env;
  const named = <T>(o: Record<string, T>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}${k}`, v]));
  return {
    dir: bundled.dir,
    files: { ...bundled.files, ...named(files) },
    zipKB: bundled.zipKB,
    env: { ...bundled.env, ...named(env) },
  };
}
