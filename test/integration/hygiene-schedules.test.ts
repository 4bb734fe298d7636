/**
 * The hygiene audit's run-time schedule check on the local stack (dynalite, the Secrets Manager and
 * Scheduler emulators), each command its own `keyshift` process: two secrets enrolled by `apply`,
 * one schedule deleted by hand and another's expression changed by hand → `keyshift hygiene`
 * reports schedule-missing and schedule-drift; `keyshift apply` puts both back and the next audit
 * is clean. The weekly Lambda's handler (one slice of the hygiene state machine) counts the same.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteScheduleCommand, SchedulerClient, UpdateScheduleCommand } from "@aws-sdk/client-scheduler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { provisionLocalSecret } from "../../harness/local/scenario";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { SchedulerScheduleStore } from "../../src/adapters/scheduler";
import { scheduleNameOf } from "../../src/core/enrollment/schedule-spec";
import { keyshiftProcess } from "./support/keyshift-process";

const ACCOUNTS = ["sched-a", "sched-b"];
const secretOf = (account: string) => `keyshift/exchange/${account}/trading`;
const ENTRY = {
  schedule: "cron(0 6 ? * SUN *)",
  timezone: "America/New_York",
  flexibleWindowMinutes: 30,
  minOverlapSeconds: 900,
  deadlineSeconds: 86_400,
  pollIntervalSeconds: 30,
  maxPollIntervalSeconds: 900,
  livenessMultiplier: 3,
  consumer: { cacheTtlSeconds: 300, heartbeatIntervalSeconds: 60, required: true },
};

let stack: LocalStack;
let dir: string;
beforeAll(async () => {
  stack = await startLocalStack();
  for (const account of ACCOUNTS) await provisionLocalSecret(stack, { account, secretId: secretOf(account) });
  dir = mkdtempSync(join(tmpdir(), "keyshift-hygiene-schedules-"));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await stack.close();
});

const keyshift = (...args: string[]) => keyshiftProcess(stack, args);
interface Finding {
  kind: string;
  secretId: string;
  severity: string;
  message: string;
  fix: string;
}
async function scheduleFindings(): Promise<Finding[]> {
  const run = await keyshift("hygiene", "--json");
  const report = JSON.parse(run.stdout) as { findings: Finding[] };
  return report.findings.filter((f) =>
    ["schedule-missing", "schedule-drift", "schedule-orphan"].includes(f.kind),
  );
}

describe("keyshift hygiene: the run-time schedules on the local stack", () => {
  it("reports a schedule deleted by hand (missing) and one changed by hand (drift); apply repairs both", async () => {
    const file = join(dir, "rotation.config.yml");
    writeFileSync(
      file,
      stringify({ secrets: ACCOUNTS.map((a) => ({ ...ENTRY, secretId: secretOf(a), exchangeAccount: a })) }),
    );
    const applied = await keyshift("apply", "--config", file);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await scheduleFindings()).toEqual([]);

    // By hand, beside keyshift: one schedule deleted, another's expression changed.
    const client = new SchedulerClient({ region: stack.region, endpoint: stack.endpoints.scheduler });
    const group = stack.env.KEYSHIFT_SCHEDULE_GROUP ?? "";
    const store = new SchedulerScheduleStore(client, group);
    const [deleted, changed] = ACCOUNTS.map((a) => scheduleNameOf(secretOf(a))) as [string, string];
    await client.send(new DeleteScheduleCommand({ Name: deleted, GroupName: group }));
    const before = await store.get(changed);
    if (!before) throw new Error(`no schedule ${changed}`);
    await client.send(
      new UpdateScheduleCommand({
        Name: changed,
        GroupName: group,
        ScheduleExpression: "rate(7 days)",
        ScheduleExpressionTimezone: before.timezone,
        FlexibleTimeWindow: { Mode: "FLEXIBLE", MaximumWindowInMinutes: 30 },
        State: "ENABLED",
        Description: before.description,
        Target: {
          Arn: before.target.arn,
          RoleArn: before.target.roleArn,
          Input: before.target.input,
          DeadLetterConfig: { Arn: before.target.deadLetterArn },
          RetryPolicy: {
            MaximumRetryAttempts: before.target.retryPolicy.maximumRetryAttempts,
            MaximumEventAgeInSeconds: before.target.retryPolicy.maximumEventAgeInSeconds,
          },
        },
      }),
    );

    const run = await keyshift("hygiene", "--json");
    expect(run.code).toBe(1);
    const found = (JSON.parse(run.stdout) as { findings: Finding[] }).findings.filter(
      (f) => f.kind.startsWith("schedule-m") || f.kind === "schedule-drift",
    );
    expect(found.map((f) => [f.kind, f.severity, f.secretId]).sort()).toEqual([
      ["schedule-drift", "medium", secretOf("sched-b")],
      ["schedule-missing", "high", secretOf("sched-a")],
    ]);
    expect(found.find((f) => f.kind === "schedule-drift")?.message).toContain(
      "expression: rate(7 days) -> cron(0 6 ? * SUN *)",
    );
    expect(found.find((f) => f.kind === "schedule-missing")?.fix).toContain("keyshift apply");
    // The weekly Lambda (a slice of the hygiene state machine) reads the same group on the emulator.
    const { hygieneAuditStep } = await import("../../functions/hygiene-audit");
    const slice = await hygieneAuditStep({ cursor: null, carried: null });
    expect(slice).toMatchObject({ done: true, secrets: 2, counts: { high: 1, medium: 1, low: 0 } });

    const repaired = await keyshift("apply", "--config", file);
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain("schedules: 1 to create, 1 to update");
    const after = await keyshift("hygiene", "--json");
    expect((JSON.parse(after.stdout) as { findings: Finding[] }).findings).toEqual([]);
    expect(after.code).toBe(0);
    client.destroy();
  }, 180_000);
});
