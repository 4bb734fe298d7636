/**
 * The hygiene audit's run-time schedule check (src/core/hygiene/schedule-findings.ts): each enrolled
 * secret's EventBridge Scheduler schedule is in the group and is what its settings call for; a
 * schedule for no enrolled secret is reported; the group is listed once a run and GetSchedule is
 * spent only where a summary cannot tell.
 */
import { describe, expect, it } from "vitest";
import { InMemoryScheduleStore } from "../../harness/memory";
import { rotationScheduleFor, scheduleNameOf } from "../../src/core/enrollment/schedule-spec";
import { hygieneAudit } from "../../src/core/hygiene/audit";
import {
  expectedSchedule,
  FULL_CHECKS_PER_AUDIT,
  readGroup,
  readsWhole,
  type ScheduleCheck,
  scheduleFindings,
} from "../../src/core/hygiene/schedule-findings";
import type { SecretSettings } from "../../src/core/model";
import type { RotationSchedule } from "../../src/core/ports";
import { type FakeDeps, makeDeps, seedSecret } from "./fakes";

const DAY = 86_400;
const GROUP = "keyshift-test-rotations";
const DEPLOYMENT = {
  stateMachineArn: "arn:aws:states:us-east-1:123456789012:stateMachine:keyshift-test-rotation",
  roleArn: "arn:aws:iam::123456789012:role/keyshift-test-scheduler",
  deadLetterArn: "arn:aws:sqs:us-east-1:123456789012:keyshift-test-schedule-dlq",
};
const SCHEDULED: Partial<SecretSettings> = {
  schedule: "cron(0 6 ? * SUN *)",
  scheduleEnabled: true,
  scheduleTimezone: "America/New_York",
  scheduleFlexibleWindowMinutes: 30,
};

interface World {
  deps: FakeDeps;
  store: InMemoryScheduleStore;
  check: ScheduleCheck;
  secrets: SecretSettings[];
}

/** `count` secrets enrolled with their schedules made as `apply` makes them. */
async function world(count = 2, settings: Partial<SecretSettings> = SCHEDULED): Promise<World> {
  const deps = makeDeps();
  const store = new InMemoryScheduleStore();
  store.now = () => deps.clock.now();
  const secrets: SecretSettings[] = [];
  for (let i = 0; i < count; i++) {
    const s = await seedSecret(deps, {
      secretId: `keyshift/exchange/acct-${i}/trading`,
      account: `acct-${i}`,
      settings,
    });
    secrets.push(s.settings);
    const schedule = expectedSchedule(s.settings, DEPLOYMENT);
    if (schedule) await store.create(schedule);
  }
  return { deps, store, check: { schedules: store, deployment: DEPLOYMENT, group: GROUP }, secrets };
}

const audit = (w: World, extra: Parameters<typeof hygieneAudit>[0] = {}) =>
  hygieneAudit(extra, { ...w.deps, scheduleCheck: w.check });
/** The run-time schedule findings (schedule-disabled is the settings' own, judged apart). */
const RUN_TIME = ["schedule-missing", "schedule-drift", "schedule-orphan"];
const scheduleKinds = <F extends { kind: string }>(findings: F[]) =>
  findings.filter((f) => RUN_TIME.includes(f.kind));
const first = (w: World) => w.secrets[0] as SecretSettings;
const scheduleOf = (w: World, i = 0) =>
  w.store.all().find((s) => s.name === scheduleNameOf(w.secrets[i]?.secretId ?? "")) as RotationSchedule;

describe("hygiene: the run-time schedules", () => {
  it("finds nothing when every schedule is what the settings call for, window and time zone included", async () => {
    const w = await world();
    w.deps.clock.advance(DAY);

    const report = await audit(w);

    expect(scheduleKinds(report.findings)).toEqual([]);
    // The expectation is the very schedule enroll/apply write (rotationScheduleFor of the entry).
    expect(scheduleOf(w)).toEqual(
      rotationScheduleFor(
        {
          secretId: first(w).secretId,
          schedule: "cron(0 6 ? * SUN *)",
          enabled: true,
          timezone: "America/New_York",
          flexibleWindowMinutes: 30,
        },
        DEPLOYMENT,
      ),
    );
  });

  it("schedule-missing (high): the secret's schedule is not in the group — it will never rotate by schedule", async () => {
    const w = await world();
    await w.store.delete(scheduleOf(w).name);

    const report = await audit(w);

    expect(scheduleKinds(report.findings)).toEqual([
      {
        secretId: first(w).secretId,
        kind: "schedule-missing",
        severity: "high",
        message: expect.stringContaining(
          `no schedule ${scheduleNameOf(first(w).secretId)} in the schedule group ${GROUP}`,
        ),
        fix: `keyshift apply (or keyshift enroll ${first(w).secretId})`,
      },
    ]);
    expect(report.findings[0]?.message).toContain("will never rotate by schedule");
  });

  it("a secret that declares no schedule expects none", async () => {
    const w = await world(1, {});
    expect(await w.store.listNames()).toEqual([]);
    expect(scheduleKinds((await audit(w)).findings)).toEqual([]);
  });

  it.each<[string, (s: RotationSchedule) => RotationSchedule, string]>([
    [
      "expression",
      (s) => ({ ...s, expression: "rate(7 days)" }),
      "expression: rate(7 days) -> cron(0 6 ? * SUN *)",
    ],
    ["time zone", (s) => ({ ...s, timezone: "UTC" }), "timezone: UTC -> America/New_York"],
    ["flexible window", ({ flexibleWindowMinutes: _w, ...s }) => s, "flexibleWindowMinutes: (none) -> 30"],
    ["state", (s) => ({ ...s, enabled: false }), "enabled: false -> true"],
    [
      "target",
      (s) => ({ ...s, target: { ...s.target, arn: `${DEPLOYMENT.stateMachineArn}-old` } }),
      `target.arn: ${DEPLOYMENT.stateMachineArn}-old -> ${DEPLOYMENT.stateMachineArn}`,
    ],
    [
      "input",
      (s) => ({
        ...s,
        target: { ...s.target, input: '{"secretId":"keyshift/exchange/other","trigger":"schedule"}' },
      }),
      "target.input:",
    ],
    [
      "role",
      (s) => ({ ...s, target: { ...s.target, roleArn: "arn:aws:iam::123456789012:role/someone-else" } }),
      "target.roleArn: arn:aws:iam::123456789012:role/someone-else ->",
    ],
    [
      "retry policy",
      (s) => ({
        ...s,
        target: { ...s.target, retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 } },
      }),
      "target.retryPolicy:",
    ],
  ])("schedule-drift (medium) names a changed %s, deployed -> declared", async (_field, change, named) => {
    const w = await world();
    w.store.plant(change(scheduleOf(w)));

    const report = await audit(w);

    const findings = scheduleKinds(report.findings);
    expect(findings).toEqual([
      {
        secretId: first(w).secretId,
        kind: "schedule-drift",
        severity: "medium",
        message: expect.stringContaining(named),
        fix: "keyshift apply (puts the schedule back to the enrolled settings)",
      },
    ]);
  });

  it("settings that record no window expect none: a window added by hand is drift", async () => {
    const { scheduleFlexibleWindowMinutes: _w, ...noWindow } = SCHEDULED;
    const w = await world(1, noWindow);
    w.store.plant({ ...scheduleOf(w), flexibleWindowMinutes: 15 });

    const [finding] = scheduleKinds((await audit(w)).findings);

    expect(finding?.message).toContain("flexibleWindowMinutes: 15 -> (none)");
  });

  it("a disabled secret expects a disabled schedule; an enabled one there is drift", async () => {
    const w = await world(1, { ...SCHEDULED, scheduleEnabled: false });
    expect(scheduleOf(w).enabled).toBe(false);
    expect(scheduleKinds((await audit(w)).findings)).toEqual([]);

    w.store.plant({ ...scheduleOf(w), enabled: true });
    const [finding] = scheduleKinds((await audit(w)).findings);
    expect(finding?.message).toContain("enabled: true -> false");
  });

  it("schedule-orphan (low): a rotation schedule of no enrolled secret, once per audit; other names in the group are not keyshift's", async () => {
    const w = await world();
    const gone = rotationScheduleFor(
      { secretId: "keyshift/exchange/retired/trading", schedule: "rate(30 days)", enabled: true },
      DEPLOYMENT,
    );
    w.store.plant(gone);
    w.store.plant({ ...gone, name: "someone-elses-schedule" });

    const report = await audit(w);

    expect(scheduleKinds(report.findings)).toEqual([
      {
        secretId: "_system",
        kind: "schedule-orphan",
        severity: "low",
        message: `schedule ${gone.name} in the schedule group ${GROUP} belongs to no enrolled secret`,
        fix: "keyshift apply --prune (deletes the rotation schedules of secrets no longer declared)",
      },
    ]);
  });

  it("lists the group once a run, and in runs continued from a cursor each run checks its own secrets; orphans with the last", async () => {
    const w = await world(5);
    await w.store.delete(scheduleOf(w, 1).name);
    await w.store.delete(scheduleOf(w, 4).name);
    w.store.plant(
      rotationScheduleFor(
        { secretId: "keyshift/exchange/gone/x", schedule: "rate(1 day)", enabled: true },
        DEPLOYMENT,
      ),
    );
    const runs: { kinds: string[]; lists: number }[] = [];
    let cursor: string | undefined;
    let carried: Awaited<ReturnType<typeof audit>>["carried"];
    do {
      const before = w.store.calls.filter((c) => c.method === "listSummaries").length;
      let started = 0;
      const report = await audit(w, {
        concurrency: 2,
        outOfTime: () => ++started > 2,
        ...(cursor ? { after: cursor, ...(carried ? { carried } : {}) } : {}),
      });
      runs.push({
        kinds: scheduleKinds(report.findings).map((f) => `${f.kind} ${f.secretId}`),
        lists: w.store.calls.filter((c) => c.method === "listSummaries").length - before,
      });
      ({ cursor, carried } = report);
    } while (cursor);

    expect(runs).toEqual([
      { lists: 1, kinds: ["schedule-missing keyshift/exchange/acct-1/trading"] },
      { lists: 1, kinds: ["schedule-missing keyshift/exchange/acct-4/trading", "schedule-orphan _system"] },
    ]);
  });

  it("reads a schedule whole (GetSchedule) only when modified lately, when its summary differs, or in its week's slice", async () => {
    const w = await world(3);
    // The schedules were made long ago; a fleet of 10,000 is read in 20 weekly slices.
    w.deps.clock.advance(30 * DAY);
    const now = w.deps.clock.now();
    const [a, b, c] = (await w.store.listSummaries()).map((s) => ({ ...s }));
    const expected = (name: string) => {
      const secret = w.secrets.find((s) => scheduleNameOf(s.secretId) === name) as SecretSettings;
      return expectedSchedule(secret, DEPLOYMENT) as RotationSchedule;
    };
    const weeks = (s: NonNullable<typeof a>) =>
      Array.from({ length: 20 }, (_, i) =>
        readsWhole(s, expected(s.name), new Date(now.getTime() + i * 7 * DAY * 1000), 10_000),
      ).filter(Boolean).length;

    if (!a || !b || !c) throw new Error("three schedules expected");
    expect(weeks(a)).toBe(1);
    expect(
      readsWhole(
        { ...b, modifiedAt: new Date(now.getTime() - 2 * DAY * 1000).toISOString() },
        expected(b.name),
        now,
        10_000,
      ),
    ).toBe(true);
    expect(readsWhole({ ...c, enabled: false }, expected(c.name), now, 10_000)).toBe(true);
    // A fleet no larger than the per-audit budget is read whole every week.
    expect(readsWhole(a, expected(a.name), now, FULL_CHECKS_PER_AUDIT)).toBe(true);
  });

  it("spends about FULL_CHECKS_PER_AUDIT GetSchedule calls on 10,000 untouched schedules, never 10,000", () => {
    const now = new Date("2026-12-07T06:00:00Z");
    const old = "2026-01-01T00:00:00.000Z";
    let read = 0;
    for (let i = 0; i < 10_000; i++) {
      const secret = { secretId: `keyshift/exchange/a${i}/k`, schedule: "rate(30 days)" } as SecretSettings;
      const expected = expectedSchedule(secret, DEPLOYMENT) as RotationSchedule;
      const summary = {
        name: expected.name,
        enabled: true,
        targetArn: DEPLOYMENT.stateMachineArn,
        modifiedAt: old,
      };
      if (readsWhole(summary, expected, now, 10_000)) read++;
    }
    expect(read).toBeGreaterThan(FULL_CHECKS_PER_AUDIT * 0.8);
    expect(read).toBeLessThan(FULL_CHECKS_PER_AUDIT * 1.2);
  });

  it("in a week outside its slice, an untouched schedule is not read whole; a summary's drift still is", async () => {
    const w = await world(1);
    w.deps.clock.advance(30 * DAY);
    const secret = first(w);
    const long = new Date(w.deps.clock.now().getTime() - 20 * DAY * 1000);
    // Edited before the look-back (as if by an apply that crashed between SETTINGS and the schedule).
    w.store.plant({ ...scheduleOf(w), expression: "rate(7 days)" }, long);
    const expected = expectedSchedule(secret, DEPLOYMENT) as RotationSchedule;
    const [summary] = await w.store.listSummaries();
    if (!summary) throw new Error("a schedule expected");
    const start = w.deps.clock.now().getTime();
    const weekOf = (inSlice: boolean) =>
      Array.from({ length: 20 }, (_, i) => new Date(start + i * 7 * DAY * 1000)).find(
        (d) => readsWhole(summary, expected, d, 10_000) === inSlice,
      ) as Date;
    const gets = () => w.store.calls.filter((c) => c.method === "get").length;
    const listing = await readGroup(w.check);

    expect(await scheduleFindings(secret, listing, w.check, weekOf(false), 10_000)).toEqual([]);
    expect(gets()).toBe(0);
    const [inSlice] = await scheduleFindings(secret, listing, w.check, weekOf(true), 10_000);
    expect(inSlice?.message).toContain("expression: rate(7 days) -> cron(0 6 ? * SUN *)");
    expect(gets()).toBe(1);

    w.store.plant({ ...scheduleOf(w), enabled: false }, long);
    const [fromSummary] = await scheduleFindings(
      secret,
      await readGroup(w.check),
      w.check,
      weekOf(false),
      10_000,
    );
    expect(fromSummary?.message).toContain("enabled: false -> true");
    expect(fromSummary?.message).toContain("expression: rate(7 days)");
  });
});
