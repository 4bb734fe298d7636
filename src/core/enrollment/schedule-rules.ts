import { leaseSecondsFor } from "../rotation/lock";
import { CRON, RATE } from "../schedule";

const CRON_FIELD = /^[0-9A-Za-z*?,/#-]+$/;

/**
 * What the lock lease adds to the longest wait of a rotation (`leaseSecondsFor`): a scheduled
 * start must come after the deadline plus this, so it never meets a rotation that still runs.
 */
export const LEASE_MARGIN_SECONDS = leaseSecondsFor({ maxPollIntervalSeconds: 0 });

/** What is wrong with an EventBridge schedule expression, or undefined when it is valid. */
export function scheduleProblem(expression: unknown): string | undefined {
  if (typeof expression !== "string") return "must be a string rate(...) or cron(...)";
  const rate = RATE.exec(expression);
  if (rate) return rateProblem(expression, Number(rate[1]), rate[2] ?? "");
  const cron = CRON.exec(expression);
  if (cron) return cronProblem(expression, (cron[1] ?? "").trim().split(/\s+/));
  return `"${expression}" must be rate(<n> minute[s]|hour[s]|day[s]) or cron(<6 fields>)`;
}

function rateProblem(expression: string, value: number, unit: string): string | undefined {
  if (value < 1) return `${expression}: the value must be a positive integer`;
  const singular = !unit.endsWith("s");
  // EventBridge rejects rate(1 days) and rate(2 day).
  if (value === 1 && !singular)
    return `${expression}: use the singular unit for 1, e.g. rate(1 ${unit.slice(0, -1)})`;
  if (value !== 1 && singular) return `${expression}: use the plural unit, e.g. rate(${value} ${unit}s)`;
  return undefined;
}

function cronProblem(expression: string, fields: string[]): string | undefined {
  if (fields.length !== 6) {
    return `${expression}: cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`;
  }
  const bad = fields.find((f) => !CRON_FIELD.test(f));
  if (bad) return `${expression}: invalid cron field "${bad}"`;
  if ((fields[2] === "?") === (fields[4] === "?")) {
    return `${expression}: exactly one of day-of-month and day-of-week must be "?"`;
  }
  return undefined;
}

/**
 * A `rate(...)` schedule that could start a rotation while the last one still holds its lock, or
 * undefined: its interval must be longer than the deadline plus the lease margin. (`cron(...)` is
 * not checked: its gaps vary.)
 */
export function scheduleMeetsRotationProblem(
  schedule: string,
  intervalSeconds: number | undefined,
  deadlineSeconds: number,
): string | undefined {
  const lease = deadlineSeconds + LEASE_MARGIN_SECONDS;
  if (intervalSeconds === undefined || intervalSeconds > lease) return undefined;
  return (
    `${schedule} starts a rotation every ${intervalSeconds}s, which must be longer than ` +
    `deadlineSeconds + ${LEASE_MARGIN_SECONDS} (${lease}s, the lock lease)`
  );
}
