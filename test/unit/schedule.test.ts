import { describe, expect, it } from "vitest";
import { nextScheduledStart, rateSeconds } from "../../src/core/schedule";

const at = (iso: string) => new Date(iso);
const next = (expression: string, after: string, anchor?: string) =>
  nextScheduledStart(expression, at(after), anchor ? at(anchor) : undefined)?.toISOString();

describe("nextScheduledStart: cron(...) as EventBridge reads it (UTC, six fields)", () => {
  it("finds the next minute and hour of a daily schedule, strictly after now", () => {
    expect(next("cron(30 2 * * ? *)", "2030-01-01T01:00:00Z")).toBe("2030-01-01T02:30:00.000Z");
    expect(next("cron(30 2 * * ? *)", "2030-01-01T02:30:00Z")).toBe("2030-01-02T02:30:00.000Z");
  });

  it("reads the enrolled example: first Monday of the month at 06:00 (MON#1, day 2 = Monday)", () => {
    // 2030-01-07 is the first Monday of January 2030; February's is the 4th.
    expect(next("cron(0 6 ? * MON#1 *)", "2030-01-01T00:00:00Z")).toBe("2030-01-07T06:00:00.000Z");
    expect(next("cron(0 6 ? * MON#1 *)", "2030-01-07T06:00:00Z")).toBe("2030-02-04T06:00:00.000Z");
    expect(next("cron(0 6 ? * 2#1 *)", "2030-01-01T00:00:00Z")).toBe("2030-01-07T06:00:00.000Z");
  });

  it("takes lists, ranges, steps, month names and the last day of the month", () => {
    expect(next("cron(0/15 9-17 ? * MON-FRI *)", "2030-01-05T12:00:00Z")).toBe("2030-01-07T09:00:00.000Z");
    expect(next("cron(0 0 L * ? *)", "2030-02-01T00:00:00Z")).toBe("2030-02-28T00:00:00.000Z");
    expect(next("cron(0 0 1 JAN,JUL ? *)", "2030-02-01T00:00:00Z")).toBe("2030-07-01T00:00:00.000Z");
    expect(next("cron(0 12 ? * 6L *)", "2030-01-01T00:00:00Z")).toBe("2030-01-25T12:00:00.000Z");
  });

  it("moves W to the nearest weekday within the month", () => {
    // 2030-06-15 is a Saturday: 15W is Friday the 14th.
    expect(next("cron(0 0 15W * ? *)", "2030-06-01T00:00:00Z")).toBe("2030-06-14T00:00:00.000Z");
  });

  it("honours the year field, and answers nothing when no start is left", () => {
    expect(next("cron(0 0 1 1 ? 2031)", "2030-06-01T00:00:00Z")).toBe("2031-01-01T00:00:00.000Z");
    expect(next("cron(0 0 1 1 ? 2029)", "2030-06-01T00:00:00Z")).toBeUndefined();
  });

  it("answers nothing for what it cannot read", () => {
    expect(next("cron(0 0 * *)", "2030-01-01T00:00:00Z")).toBeUndefined();
    expect(next("cron(61 0 * * ? *)", "2030-01-01T00:00:00Z")).toBeUndefined();
    expect(next("every day", "2030-01-01T00:00:00Z")).toBeUndefined();
  });
});

describe("nextScheduledStart: rate(...) from its anchor", () => {
  it("counts whole periods from the anchor", () => {
    expect(rateSeconds("rate(30 days)")).toBe(30 * 86_400);
    expect(next("rate(30 days)", "2030-01-15T00:00:00Z", "2030-01-01T08:00:00Z")).toBe(
      "2030-01-31T08:00:00.000Z",
    );
    expect(next("rate(1 hour)", "2030-01-01T10:00:00Z", "2030-01-01T08:00:00Z")).toBe(
      "2030-01-01T11:00:00.000Z",
    );
  });

  it("needs an anchor: without one the phase is unknown", () => {
    expect(next("rate(5 minutes)", "2030-01-01T00:00:00Z")).toBeUndefined();
  });
});

describe("nextScheduledStart: the per-expression cache answers exactly as a fresh computation", () => {
  it("for instants in random order, across starts, for several expressions", () => {
    let state = 42;
    const random = () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state / 2 ** 31;
    };
    const bodies = ["0 6 ? * SUN *", "*/15 9-17 ? * MON-FRI *", "30 2 1 * ? *", "0 0 ? * 2#1 *"];
    const base = Date.parse("2027-03-01T00:00:00Z");
    for (let i = 0; i < 400; i++) {
      const body = bodies[i % bodies.length] ?? "";
      const after = new Date(base + Math.floor(random() * 90 * 24 * 3600) * 1000);
      const cached = nextScheduledStart(`cron(${body})`, after);
      // A spelling of the same expression never asked before: computed from scratch.
      const fresh = nextScheduledStart(`cron(${body.replace(" ", " ".repeat(2 + i))})`, after);
      expect(cached?.toISOString()).toBe(fresh?.toISOString());
      expect(cached && cached.getTime() > after.getTime()).toBe(true);
    }
  });
});
