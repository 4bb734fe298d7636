/**
 * `serverless package` of this checkout with N declared secrets: a copy of the service (the
 * working tree as it is, node_modules linked) whose rotation.config.yml declares N secrets, packaged
 * offline with no AWS credential. Used by the `templateResources` figure (harness/bench/fleet-apply.ts)
 * and by test/deploy/package-independence.test.ts.
 */
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { stringify } from "yaml";

export const SERVICE_ROOT = join(import.meta.dirname, "..", "..");
/** What the copy leaves out: dependencies (linked instead), history and build output. */
const SKIPPED = new Set([
  "node_modules",
  ".git",
  ".serverless",
  ".esbuild",
  ".local-state",
  "coverage",
  "dist",
]);

/** N entries that pass the enrollment rules, each with its own account and schedule. */
export function declaredSecrets(count: number): Record<string, unknown> {
  return {
    defaults: {
      schedule: "rate(30 days)",
      minOverlapSeconds: 900,
      deadlineSeconds: 86_400,
      pollIntervalSeconds: 30,
      maxPollIntervalSeconds: 900,
      livenessMultiplier: 3,
      consumer: { cacheTtlSeconds: 300, heartbeatIntervalSeconds: 60, required: true },
    },
    secrets: Array.from({ length: count }, (_, i) => ({
      secretId: `keyshift/exchange/fleet-${i}/trading`,
      exchangeAccount: `fleet-${i}`,
      ...(i % 3 === 0 ? { schedule: "cron(0 6 ? * SUN *)", timezone: "America/New_York" } : {}),
      ...(i % 5 === 0 ? { flexibleWindowMinutes: 60 } : {}),
    })),
  };
}

export interface FleetPackage {
  declared: number;
  resources: number;
  resourceTypes: Record<string, number>;
  seconds: number;
}

/** Packages a copy of the service whose enrollment file declares `count` secrets. */
export async function packageWithDeclaredSecrets(count: number): Promise<FleetPackage> {
  const work = mkdtempSync(join(tmpdir(), `keyshift-fleet-${count}-`));
  try {
    const service = join(work, "service");
    cpSync(SERVICE_ROOT, service, {
      recursive: true,
      filter: (source) => !SKIPPED.has(relative(SERVICE_ROOT, source).split("/")[0] ?? ""),
    });
    symlinkSync(join(SERVICE_ROOT, "node_modules"), join(service, "node_modules"));
    writeFileSync(join(service, "rotation.config.yml"), stringify(declaredSecrets(count)));
    const out = join(work, "package");
    const started = performance.now();
    await runOsls(service, ["package", "--stage", "dev", "--package", out]);
    const seconds = (performance.now() - started) / 1000;
    const template = JSON.parse(
      readFileSync(join(out, "cloudformation-template-update-stack.json"), "utf8"),
    ) as {
      Resources: Record<string, { Type: string }>;
    };
    const resourceTypes: Record<string, number> = {};
    for (const r of Object.values(template.Resources))
      resourceTypes[r.Type] = (resourceTypes[r.Type] ?? 0) + 1;
    return { declared: count, resources: Object.keys(template.Resources).length, resourceTypes, seconds };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** osls offline: telemetry off, every AWS credential variable removed. */
function runOsls(cwd: string, args: string[]): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
  };
  for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"])
    delete env[key];
  const cli = join(SERVICE_ROOT, "node_modules", "osls", "bin", "serverless.js");
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd, env, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`serverless package failed in ${cwd}:\n${stdout}${stderr}`)) : resolve(),
    );
  });
}
