import { beforeEach, describe, expect, it } from "vitest";
import { InMemoryScheduleStore } from "../../harness/memory";
import { validateEnrollment } from "../../src/core/enrollment";
import type { EnrolledSecret } from "../../src/core/enrollment/model";
import {
  flexibleWindowProblem,
  rotationScheduleFor,
  scheduleNameOf,
  timezoneProblem,
} from "../../src/core/enrollment/schedule-spec";
import { type ApplyOptions, applyEnrollment } from "../../src/core/operator/apply";
import { nextScheduledStartIn } from "../../src/core/schedule-timezone";
import { type FakeDeps, makeDeps } from "./fakes";

const DEPLOYMENT = {
  stateMachineArn: "arn:aws:states:eu-west-1:123456789012:stateMachine:keyshift-dev-rotation",
  roleArn: "arn:aws:iam::123456789012:role/keyshift-dev-scheduler",
  deadLetterArn: "arn:aws:sqs:eu-west-1:123456789012:keyshift-dev-schedule-dlq",
};
const ENTRY = {
  exchangeAccount: "acct-main",
  schedule: "cron(0 6 ? * SUN *)",
  timezone: "America/New_York",
  minOverlapSeconds: 900,
  deadlineSeconds: 86_400,
  pollIntervalSeconds: 30,
  maxPollIntervalSeconds: 900,
  livenessMultiplier: 3,
  consumer: { cacheTtlSeconds: 300, heartbeatIntervalSeconds: 60, required: true },
};
const LIMITS = { executionTimeoutSeconds: 31_536_000 };

const problemsOf = (entry: Record<string, unknown>) => {
  try {
    validateEnrollment({ secrets: [{ secretId: "keyshift/exchange/a/b", ...ENTRY, ...entry }] }, LIMITS);
    return [];
  } catch (err) {
    return (err as { problems: string[] }).problems;
  }
};

describe("schedule rules: time zone, flexible window, name", () => {
  it.each([
    ["America/New_York", undefined],
    ["UTC", undefined],
    ["US/Eastern", undefined],
    ["utc", 'use "UTC"'],
    ["+05:00", "is not an IANA time zone name"],
    ["Mars/Olympus_Mons", "is not an IANA time zone name"],
    ["", "must be an IANA time zone name"],
  ])("time zone %j", (tz, problem) => {
    const found = timezoneProblem(tz);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it.each([
    [1, true],
    [1440, true],
    [0, false],
    [1441, false],
    [2.5, false],
    ["15", false],
  ])("flexible window %j minutes accepted: %s", (minutes, ok) => {
    expect(flexibleWindowProblem(minutes) === undefined).toBe(ok);
  });

  it("refuses a wrong time zone and an out-of-range window in the enrollment file, naming the field and the fix", () => {
    expect(problemsOf({ timezone: "New York" })).toEqual([
      expect.stringContaining('field timezone: "New York" is not an IANA time zone name, e.g. UTC'),
    ]);
    expect(problemsOf({ flexibleWindowMinutes: 0 })).toEqual([
      expect.stringContaining("field flexibleWindowMinutes: must be an integer from 1 to 1440"),
    ]);
    expect(problemsOf({ schedule: "rate(99999999999999999999 days)" })).toEqual([
      expect.stringContaining("field schedule: rate(99999999999999999999 days): at most 36500 days"),
    ]);
    expect(problemsOf({ flexibleWindowMinutes: 60 })).toEqual([]);
  });

  it("names schedules within Scheduler's 64 characters, distinct by a hash, prefixed for --prune", () => {
    const long = (tail: string) => `keyshift/exchange/${"a".repeat(60)}/${tail}`;
    const names = [long("one"), long("two"), "keyshift/exchange/x y+z@w/p"].map(scheduleNameOf);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^rotate-[0-9a-zA-Z\-_.]+$/);
    for (const name of names) expect(name.length).toBeLessThanOrEqual(64);
    expect(names[2]).toMatch(/^rotate-x-y-z-w-p-[0-9a-f]{10}$/);
  });

  it("reads cron fields on the zone's wall clock, daylight saving included", () => {
    const sunday6am = "cron(0 6 ? * SUN *)";
    const at = (iso: string) =>
      nextScheduledStartIn(sunday6am, "America/New_York", new Date(iso))?.toISOString();
    expect(at("2026-01-03T00:00:00Z")).toBe("2026-01-04T11:00:00.000Z"); // EST, UTC-5
    expect(at("2026-07-04T00:00:00Z")).toBe("2026-07-05T10:00:00.000Z"); // EDT, UTC-4
    expect(nextScheduledStartIn(sunday6am, "UTC", new Date("2026-07-04T00:00:00Z"))?.toISOString()).toBe(
      "2026-07-05T06:00:00.000Z",
    );
  });

  it("maps a declared secret to the templated StartExecution target with the rules' input, retry and queue", () => {
    const schedule = rotationScheduleFor(
      { secretId: "keyshift/exchange/a/b", schedule: "rate(30 days)", enabled: false },
      DEPLOYMENT,
    );
    expect(schedule).toMatchObject({
      expression: "rate(30 days)",
      timezone: "UTC",
      enabled: false,
      target: {
        arn: DEPLOYMENT.stateMachineArn,
        roleArn: DEPLOYMENT.roleArn,
        deadLetterArn: DEPLOYMENT.deadLetterArn,
        retryPolicy: { maximumRetryAttempts: 10, maximumEventAgeInSeconds: 3600 },
      },
    });
    expect(JSON.parse(schedule.target.input)).toEqual({
      secretId: "keyshift/exchange/a/b",
      trigger: "schedule",
    });
    expect(schedule.flexibleWindowMinutes).toBeUndefined();
  });
});

interface World {
  deps: FakeDeps & { schedules: InMemoryScheduleStore };
  secrets: EnrolledSecret[];
}

async function world(count: number): Promise<World> {
  const deps = { ...makeDeps(), schedules: new InMemoryScheduleStore() };
  const entries = [];
  for (let i = 0; i < count; i += 1) {
    const secretId = `keyshift/exchange/acct-${i}/trading`;
    const account = `acct-${i}`;
    deps.exchange.addAccount(account, 2);
    const key = deps.exchange.seedKey(account, { label: "initial", permissions: ["trade"] });
    deps.secrets.create(
      secretId,
      JSON.stringify({ account, keyId: key.keyId, secret: key.secret, permissions: ["trade"] }),
    );
    entries.push({
      ...ENTRY,
      secretId,
      exchangeAccount: account,
      ...(i % 2 ? { flexibleWindowMinutes: 30 } : {}),
    });
  }
  return { deps, secrets: validateEnrollment({ secrets: entries }, LIMITS).secrets };
}

const options = (over: Partial<ApplyOptions> = {}): ApplyOptions => ({
  deployment: DEPLOYMENT,
  dryRun: false,
  prune: false,
  concurrency: 8,
  ...over,
});

describe("keyshift apply (applyEnrollment)", () => {
  let w: World;
  beforeEach(async () => {
    w = await world(20);
  });

  it("creates settings and schedules, then plans everything unchanged and calls no writer", async () => {
    const first = await applyEnrollment(w.secrets, "operator:test", w.deps, options());
    expect(first).toMatchObject({ done: 20, settings: { create: 20 }, schedules: { create: 20 } });
    expect(w.deps.schedules.all()).toHaveLength(20);
    const writes = w.deps.schedules.calls.length;

    const again = await applyEnrollment(w.secrets, "operator:test", w.deps, options());
    expect(again).toMatchObject({
      done: 20,
      settings: { unchanged: 20 },
      schedules: { unchanged: 20 },
      changed: [],
    });
    expect(
      w.deps.schedules.calls.slice(writes).filter((c) => c.method !== "get" && c.method !== "listNames"),
    ).toEqual([]);
  });

  it("dry run: the readable diff, nothing written", async () => {
    const dry = await applyEnrollment(w.secrets, "operator:test", w.deps, options({ dryRun: true }));
    expect(dry).toMatchObject({ done: 20, settings: { create: 20 }, schedules: { create: 20 } });
    expect(w.deps.schedules.all()).toEqual([]);
    expect(await w.deps.store.getSettings(w.secrets[0]?.secretId ?? "")).toBeUndefined();
  });

  it("resumes after a crash half-way: a fault after 7 creates stops it; the re-run finishes, creating only the rest", async () => {
    w.deps.schedules.faults.failAfter("create", 7, 1000, Error, "connection reset (the process died here)");
    const crashed = await applyEnrollment(w.secrets, "operator:test", w.deps, options());
    expect(crashed.failed?.error).toContain("connection reset");
    expect(crashed.done).toBeLessThan(20);
    expect(w.deps.schedules.all()).toHaveLength(7);

    w.deps.schedules.faults.clear();
    const resumed = await applyEnrollment(w.secrets, "operator:test", w.deps, options());
    expect(resumed.failed).toBeUndefined();
    expect(resumed.schedules).toEqual({ create: 13, update: 0, unchanged: 7 });
    expect(w.deps.schedules.all()).toHaveLength(20);
    // What a clean run would have made: every declared schedule, exactly.
    const clean = await world(20);
    await applyEnrollment(clean.secrets, "operator:test", clean.deps, options());
    expect(w.deps.schedules.all()).toEqual(clean.deps.schedules.all());
  });

  it("catches a planted wrong target and a changed time zone, and puts them back", async () => {
    await applyEnrollment(w.secrets, "operator:test", w.deps, options());
    const [victim, other] = w.deps.schedules.all();
    if (!victim || !other) throw new Error("no schedules");
    w.deps.schedules.plant({
      ...victim,
      target: { ...victim.target, arn: `${DEPLOYMENT.stateMachineArn}-evil` },
    });
    w.deps.schedules.plant({ ...other, timezone: "UTC" });

    const fixed = await applyEnrollment(w.secrets, "operator:test", w.deps, options());

    expect(fixed.schedules).toEqual({ create: 0, update: 2, unchanged: 18 });
    const changes = fixed.changed.map((p) => p.schedule.changes);
    expect(changes).toEqual(
      expect.arrayContaining([
        [["target.arn", `${DEPLOYMENT.stateMachineArn}-evil`, DEPLOYMENT.stateMachineArn]],
        [["timezone", "UTC", "America/New_York"]],
      ]),
    );
    expect(w.deps.schedules.all().find((s) => s.name === victim.name)?.target.arn).toBe(
      DEPLOYMENT.stateMachineArn,
    );
  });

  it("updates settings changed in the file and lists undeclared schedules; --prune deletes only rotation schedules", async () => {
    await applyEnrollment(w.secrets, "operator:test", w.deps, options());
    const [gone, changed, ...rest] = w.secrets;
    if (!gone || !changed) throw new Error("no secrets");
    const [any] = w.deps.schedules.all();
    if (!any) throw new Error("no schedules");
    w.deps.schedules.plant({ ...any, name: "someone-elses-schedule" });
    const declared = [{ ...changed, deadlineSeconds: 43_200 }, ...rest];

    const listed = await applyEnrollment(declared, "operator:test", w.deps, options());
    expect(listed.settings.update).toBe(1);
    expect(listed.changed[0]?.settings.changes).toEqual([["deadlineSeconds", "86400", "43200"]]);
    expect(listed.undeclared).toEqual([scheduleNameOf(gone.secretId)]);
    expect(listed.pruned).toBe(false);

    const pruned = await applyEnrollment(declared, "operator:test", w.deps, options({ prune: true }));
    expect(pruned.pruned).toBe(true);
    const names = w.deps.schedules.all().map((s) => s.name);
    expect(names).not.toContain(scheduleNameOf(gone.secretId));
    expect(names).toContain("someone-elses-schedule");
    expect(
      w.deps.audit.all().some((e) => e.action === "schedule-deleted" && e.secretId === gone.secretId),
    ).toBe(true);
  });

  it("keeps at most `concurrency` secrets in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const get = w.deps.schedules.get.bind(w.deps.schedules);
    w.deps.schedules.get = async (name) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight -= 1;
      return get(name);
    };
    await applyEnrollment(w.secrets, "operator:test", w.deps, options({ concurrency: 3, dryRun: true }));
    expect(most).toBe(3);
  });

  it("a create that meets an existing schedule (another apply got there) updates it instead", async () => {
    await applyEnrollment(w.secrets.slice(0, 1), "operator:test", w.deps, options());
    const get = w.deps.schedules.get.bind(w.deps.schedules);
    w.deps.schedules.get = async () => undefined; // read before the other writer created it
    const raced = await applyEnrollment(
      [{ ...(w.secrets[0] as EnrolledSecret), schedule: "rate(30 days)" }],
      "operator:test",
      w.deps,
      options(),
    );
    w.deps.schedules.get = get;
    expect(raced.failed).toBeUndefined();
    expect(w.deps.schedules.all()[0]?.expression).toBe("rate(30 days)");
  });
});
