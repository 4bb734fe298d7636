/**
 * Issue 19's enrollment figures:
 * - `applySeconds10k`: `keyshift apply` (the real CLI, in-process, 8 secrets at a time) taking a
 *   file of N declared secrets to the local stack — dynalite and the Secrets Manager and Scheduler
 *   emulators — from nothing enrolled: per secret its settings, versions record, audit entries,
 *   read policy and Scheduler schedule. Then the same apply again, which must change nothing.
 * - `templateResources`: the resource count of `serverless package` with 2 and with N declared
 *   secrets (harness/bench/package-fleet.ts): equal, as the template no longer reads the file.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { stringify } from "yaml";
import type { LocalStack } from "../local/stack";
import { declaredSecrets, packageWithDeclaredSecrets, SERVICE_ROOT } from "./package-fleet";

export interface ApplyRun {
  seconds: number;
  code: number;
  settings: Record<string, number>;
  schedules: Record<string, number>;
  changed: number;
}

export interface FleetApplyResult {
  secrets: number;
  provisionSeconds: number;
  first: ApplyRun;
  again: ApplyRun;
  schedulesInGroup: number;
  how: string;
}

/** Creates N exchange-key secrets (one account each) in the emulator, 16 at a time. */
async function provision(stack: LocalStack, count: number): Promise<void> {
  const sm = new SecretsManagerClient({ region: stack.region, endpoint: stack.endpoints.secretsManager });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next;
      next += 1;
      await sm.send(
        new CreateSecretCommand({
          Name: `keyshift/exchange/fleet-${i}/trading`,
          SecretString: JSON.stringify({
            account: `fleet-${i}`,
            keyId: `fleet-key-${i}`,
            secret: `bench-only-${i}`,
            permissions: ["trade"],
          }),
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  sm.destroy();
}

/**
 * The real CLI in its own process, as an operator runs it (`npx keyshift`, bin/keyshift.mjs): the
 * stack's emulators keep this process's CPU, the CLI gets its own.
 */
function keyshift(stack: LocalStack, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(SERVICE_ROOT, "bin", "keyshift.mjs"), ...args], {
      cwd: SERVICE_ROOT,
      env: { ...process.env, ...stack.env, POWERTOOLS_LOG_LEVEL: "ERROR" },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout }));
  });
}

async function apply(stack: LocalStack, file: string): Promise<ApplyRun> {
  const started = performance.now();
  const { code, stdout } = await keyshift(stack, ["apply", "--config", file, "--json"]);
  const seconds = (performance.now() - started) / 1000;
  const report = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as {
    settings?: Record<string, number>;
    schedules?: Record<string, number>;
    changed?: unknown[];
    error?: { message: string };
  };
  if (code !== 0)
    throw new Error(`keyshift apply exited ${code}: ${report.error?.message ?? stdout.slice(-500)}`);
  return {
    seconds: +seconds.toFixed(2),
    code,
    settings: report.settings ?? {},
    schedules: report.schedules ?? {},
    changed: report.changed?.length ?? 0,
  };
}

/** `keyshift apply` of N declared secrets on the local stack, then again. */
export async function fleetApply(opts: { stack: LocalStack; secrets: number }): Promise<FleetApplyResult> {
  const dir = mkdtempSync(join(tmpdir(), "keyshift-fleet-apply-"));
  try {
    const provisionStarted = performance.now();
    await provision(opts.stack, opts.secrets);
    const provisionSeconds = +((performance.now() - provisionStarted) / 1000).toFixed(2);
    const file = join(dir, "rotation.config.yml");
    writeFileSync(file, stringify(declaredSecrets(opts.secrets)));
    const first = await apply(opts.stack, file);
    const again = await apply(opts.stack, file);
    return {
      secrets: opts.secrets,
      provisionSeconds,
      first,
      again,
      schedulesInGroup: await countSchedules(opts.stack),
      how:
        "`keyshift apply --config <N entries> --json` (bin/keyshift.mjs, its own process) against the local stack " +
        "(dynalite, Secrets Manager and EventBridge Scheduler emulators, SigV4 on every call), from nothing " +
        "enrolled; 8 secrets in flight; per secret: settings + versions + audit + read policy + schedule. " +
        "`again` is the same apply re-run (nothing to change). The secrets are created beforehand, not timed.",
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function countSchedules(stack: LocalStack): Promise<number> {
  const { SchedulerClient } = await import("@aws-sdk/client-scheduler");
  const { SchedulerScheduleStore } = await import("../../src/adapters/scheduler");
  const client = new SchedulerClient({ region: stack.region, endpoint: stack.endpoints.scheduler });
  try {
    return (await new SchedulerScheduleStore(client, stack.env.KEYSHIFT_SCHEDULE_GROUP ?? "").listNames())
      .length;
  } finally {
    client.destroy();
  }
}

export interface TemplateResources {
  declared: number[];
  resources: Record<string, number>;
  equal: boolean;
  packageSeconds: Record<string, number>;
  how: string;
}

/** `serverless package` with 2 and with N declared secrets. */
export async function templateResources(largest: number): Promise<TemplateResources> {
  const two = await packageWithDeclaredSecrets(2);
  const many = await packageWithDeclaredSecrets(largest);
  return {
    declared: [2, largest],
    resources: { "2": two.resources, [String(largest)]: many.resources },
    equal:
      two.resources === many.resources &&
      JSON.stringify(two.resourceTypes) === JSON.stringify(many.resourceTypes),
    packageSeconds: { "2": +two.seconds.toFixed(1), [String(largest)]: +many.seconds.toFixed(1) },
    how:
      "`serverless package --stage dev` (osls, offline) of a copy of this checkout whose rotation.config.yml " +
      "declares N secrets; resources counted in cloudformation-template-update-stack.json",
  };
}
