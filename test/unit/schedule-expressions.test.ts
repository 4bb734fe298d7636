/**
 * Schedule expressions refused where EventBridge Scheduler refuses them (src/core/enrollment/
 * schedule-rules.ts, cron-rules.ts), and accepted where it accepts them; through `keyshift enroll`
 * too, which used to store `rate(99999999999999999999 days)` and exit 0.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runKeyshift } from "../../src/cli/run";
import { scheduleProblem } from "../../src/core/enrollment";

describe("scheduleProblem accepts what EventBridge Scheduler accepts", () => {
  it.each([
    "rate(1 minute)",
    "rate(5 minutes)",
    "rate(1 hour)",
    "rate(12 hours)",
    "rate(1 day)",
    "rate(30 days)",
    "rate(36500 days)",
    "rate(876000 hours)",
    "cron(0 6 ? * MON *)",
    "cron(0 6 ? * MON#1 *)",
    "cron(0 6 ? * 2#1 *)",
    "cron(30 2 1 * ? *)",
    "cron(0/15 9-17 ? * MON-FRI *)",
    "cron(0 0 L * ? *)",
    "cron(0 0 LW * ? *)",
    "cron(0 0 15W * ? *)",
    "cron(0 12 ? * 6L *)",
    "cron(0 12 ? * L *)",
    "cron(0 0 1 JAN,JUL ? *)",
    "cron(0 0 1 jan-jun ? 2030-2199)",
    "cron(5,35 */2 ? * SUN *)",
    "cron(0 0 1/5 * ? 1970)",
  ])("%s", (expression) => {
    expect(scheduleProblem(expression)).toBeUndefined();
  });
});

describe("scheduleProblem refuses what EventBridge Scheduler refuses, naming the expression, the fault and a valid one", () => {
  it.each([
    ["rate(99999999999999999999 days)", "at most 36500 days (100 years)"],
    ["rate(36501 days)", "at most 36500 days"],
    ["rate(876001 hours)", "at most 36500 days"],
    ["rate(0 minutes)", "the value must be a positive integer"],
    ["rate(-5 minutes)", "must be rate(value unit) with a positive integer value"],
    ["rate(1.5 hours)", "must be rate(value unit) with a positive integer value"],
    ["rate(5 weeks)", "unit minute(s), hour(s) or day(s)"],
    ["rate(5 seconds)", "unit minute(s), hour(s) or day(s)"],
    ["rate(5)", "must be rate(value unit)"],
    ["rate(1 days)", "use the singular unit for 1, e.g. rate(1 day)"],
    ["rate(2 day)", "use the plural unit, e.g. rate(2 days)"],
    ["cron(0 6 * *)", "cron needs 6 fields"],
    ["cron(0 6 * * ? * *)", "cron needs 6 fields"],
    ["cron(0 6 * * MON *)", 'exactly one of day-of-month and day-of-week must be "?"'],
    ["cron(0 6 ? * ? *)", 'exactly one of day-of-month and day-of-week must be "?"'],
    ["cron(60 6 ? * MON *)", 'minutes field "60": 60 is out of range (0-59)'],
    ["cron(0 24 ? * MON *)", 'hours field "24": 24 is out of range (0-23)'],
    ["cron(0 6 32 * ? *)", 'day-of-month field "32": 32 is out of range (1-31)'],
    ["cron(0 6 0 * ? *)", 'day-of-month field "0": 0 is out of range (1-31)'],
    ["cron(0 6 1 13 ? *)", 'month field "13": 13 is out of range (1-12 or JAN-DEC)'],
    ["cron(0 6 1 FOO ? *)", 'month field "FOO": "FOO" is not a value'],
    ["cron(0 6 ? * 8 *)", 'day-of-week field "8": 8 is out of range (1-7 or SUN-SAT)'],
    ["cron(0 6 ? * MON#6 *)", "the instance after # must be 1 to 5"],
    ["cron(0 6 ? * MON#1,FRI#3 *)", 'day-of-week field "MON#1,FRI#3"'],
    ["cron(0 6 ? * MON/2 *)", "/ is not allowed in day-of-week"],
    ["cron(0 6 1 * ? 1969)", 'year field "1969": 1969 is out of range (1970-2199)'],
    ["cron(0 6 1 * ? 2200)", 'year field "2200": 2200 is out of range (1970-2199)'],
    ["cron(0/0 6 ? * MON *)", 'the increment in "0/0" must be a positive integer'],
    ["cron(? 6 ? * MON *)", "? is only for day-of-month or day-of-week"],
    ["cron(0 6 L ? * *)", 'exactly one of day-of-month and day-of-week must be "?"'],
    ["cron(0 6 1W5 * ? *)", 'day-of-month field "1W5"'],
    ["cron(0 6 ? * MONDAY *)", 'day-of-week field "MONDAY": "MONDAY" is not a value'],
    ["at(2030-01-01T06:00:00)", "at(...) is a one-time schedule; keyshift rotates on a recurring one"],
    ["every 30 days", '"every 30 days" must be rate('],
    [`cron(0 6 ? * MON ${"1".repeat(300)})`, "at most 256 characters"],
  ])("%s", (expression, fault) => {
    const problem = scheduleProblem(expression) ?? "";
    expect(problem).toContain(fault);
    if (expression.length <= 256) expect(problem).toContain(expression);
    expect(problem).toMatch(/e\.g\. (rate|cron)\(/);
  });

  it("refuses a value that is not a string", () => {
    expect(scheduleProblem(30)).toMatch(
      /must be a string rate\(\.\.\.\) or cron\(\.\.\.\), e\.g\. rate\(30 days\)/,
    );
  });
});

describe("keyshift enroll refuses a schedule EventBridge Scheduler would refuse, before any AWS call", () => {
  const dir = mkdtempSync(join(tmpdir(), "keyshift-schedule-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const fixture = readFileSync(
    join(import.meta.dirname, "..", "fixtures", "enrollment", "bad-schedule.yml"),
    "utf8",
  );

  async function enrollWith(schedule: string) {
    const file = join(dir, `${schedule.replace(/\W+/g, "-")}.yml`);
    writeFileSync(file, fixture.replace("schedule: rate(1 days)", `schedule: "${schedule}"`));
    let stdout = "";
    let stderr = "";
    const code = await runKeyshift(["enroll", "keyshift/exchange/acme-hedge/market-data", "--config", file], {
      env: {},
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
    });
    return { code, stdout, stderr };
  }

  it.each([
    ["rate(99999999999999999999 days)", "at most 36500 days"],
    ["cron(0 25 ? * MON *)", 'hours field "25"'],
  ])("%s: a non-zero exit naming the entry, the field and the fault", async (schedule, fault) => {
    const run = await enrollWith(schedule);

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      `entry secrets[1] (keyshift/exchange/acme-hedge/market-data), field schedule: ${schedule}: `,
    );
    expect(run.stderr).toContain(fault);
    expect(run.stdout).toBe("");
  });

  it("a valid schedule passes the file check (and stops only at the missing environment)", async () => {
    const run = await enrollWith("rate(90 days)");

    expect(run.stderr).not.toContain("field schedule");
    expect(run.code).toBe(78);
  });
});
