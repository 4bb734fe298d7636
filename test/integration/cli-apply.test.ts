/**
 * `keyshift apply` against the local stack (dynalite, the Secrets Manager and Scheduler emulators),
 * each command its own `keyshift` process: the diff, idempotence, a changed field named with its
 * two values, a schedule changed by hand put back, `--prune`, and a refused file.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SchedulerClient, UpdateScheduleCommand } from "@aws-sdk/client-scheduler";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { provisionLocalSecret } from "../../harness/local/scenario";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { SchedulerScheduleStore } from "../../src/adapters/scheduler";
import { scheduleNameOf } from "../../src/core/enrollment/schedule-spec";
import { keyshiftProcess } from "./support/keyshift-process";

const ACCOUNTS = ["apply-a", "apply-b", "apply-c"];
const secretOf = (account: string) => `keyshift/exchange/${account}/trading`;
const ENTRY = {
  schedule: "cron(0 6 ? * SUN *)",
  timezone: "America/New_York",
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
  dir = mkdtempSync(join(tmpdir(), "keyshift-apply-"));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await stack.close();
});

function config(name: string, entries: Record<string, unknown>[]): string {
  const file = join(dir, name);
  writeFileSync(file, stringify({ secrets: entries }));
  return file;
}
const entry = (account: string, extra: Record<string, unknown> = {}) => ({
  ...ENTRY,
  secretId: secretOf(account),
  exchangeAccount: account,
  ...extra,
});
const keyshift = (...args: string[]) => keyshiftProcess(stack, args);
const report = (stdout: string) => JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");

describe("keyshift apply on the local stack", () => {
  it("plans, applies, changes nothing the second time, names a changed field, repairs drift, prunes", async () => {
    const all = config(
      "all.yml",
      ACCOUNTS.map((a) => entry(a)),
    );

    const dry = await keyshift("apply", "--config", all, "--dry-run");
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("settings: 3 to create, 0 to update, 0 unchanged; schedules: 3 to create");
    expect(dry.stdout).toContain("would change (dry run: nothing written)");

    const applied = await keyshift("apply", "--config", all, "--json");
    expect(applied.code, applied.stderr).toBe(0);
    expect(report(applied.stdout)).toMatchObject({
      done: 3,
      settings: { create: 3 },
      schedules: { create: 3 },
    });
    expect(applied.stderr).toContain("applying 3 secrets");

    const again = await keyshift("apply", "--config", all, "--json");
    expect(report(again.stdout)).toMatchObject({
      settings: { unchanged: 3 },
      schedules: { unchanged: 3 },
      changed: [],
    });

    // A changed time zone, and a target someone pointed elsewhere by hand: both named, both put back.
    const client = new SchedulerClient({ region: stack.region, endpoint: stack.endpoints.scheduler });
    const store = new SchedulerScheduleStore(client, stack.env.KEYSHIFT_SCHEDULE_GROUP ?? "");
    const b = await store.get(scheduleNameOf(secretOf("apply-b")));
    if (!b) throw new Error("no schedule for apply-b");
    await client.send(
      new UpdateScheduleCommand({
        Name: b.name,
        GroupName: stack.env.KEYSHIFT_SCHEDULE_GROUP,
        ScheduleExpression: b.expression,
        ScheduleExpressionTimezone: b.timezone,
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: { Arn: `${b.target.arn}-elsewhere`, RoleArn: b.target.roleArn, Input: b.target.input },
      }),
    );
    const changed = config("changed.yml", [
      entry("apply-a", { timezone: "Europe/London" }),
      entry("apply-b"),
      entry("apply-c"),
    ]);
    const fixed = await keyshift("apply", "--config", changed);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stdout).toContain("scheduleTimezone: America/New_York -> Europe/London");
    expect(fixed.stdout).toContain("timezone: America/New_York -> Europe/London");
    expect(fixed.stdout).toContain(`target.arn: ${b.target.arn}-elsewhere -> ${b.target.arn}`);
    expect(fixed.stdout).toContain(`target.deadLetterArn: (none) -> ${b.target.deadLetterArn}`);
    expect((await store.get(b.name))?.target).toEqual(b.target);

    // Not declared any more: listed, and deleted only with --prune.
    const two = config("two.yml", [entry("apply-a", { timezone: "Europe/London" }), entry("apply-b")]);
    const listed = await keyshift("apply", "--config", two);
    expect(listed.stdout).toContain("run `keyshift apply --prune` to delete them");
    expect(await store.get(scheduleNameOf(secretOf("apply-c")))).toBeDefined();
    const pruned = await keyshift("apply", "--config", two, "--prune", "--json");
    expect(report(pruned.stdout)).toMatchObject({
      pruned: true,
      undeclared: [scheduleNameOf(secretOf("apply-c"))],
    });
    expect(await store.get(scheduleNameOf(secretOf("apply-c")))).toBeUndefined();
    client.destroy();
  }, 180_000);

  it("refuses a file with a wrong time zone before any call, naming the entry, the field and the fix", async () => {
    const bad = config("bad.yml", [entry("apply-a", { timezone: "New York" })]);
    const run = await keyshift("apply", "--config", bad);
    expect(run.code).toBe(78);
    expect(run.stderr).toContain(
      `entry secrets[0] (${secretOf("apply-a")}), field timezone: "New York" is not an IANA time zone name, e.g. UTC`,
    );
  });
});
