import { leaseSecondsFor } from "../rotation/lock";
import { CRON, RATE } from "../schedule";
import { CRON_EXAMPLE, cronFieldsProblem } from "./cron-rules";

/**
 * What the lock lease adds to the longest wait of a rotation (`leaseSecondsFor`): a scheduled
 * start must come after the deadline plus this, so it never meets a rotation that still runs.
 */
export const LEASE_MARGIN_SECONDS = leaseSecondsFor({ maxPollIntervalSeconds: 0 });

/**
 * EventBridge Scheduler's ScheduleExpression is at most 256 characters (CreateSchedule,
 * https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html).
 */
export const MAX_EXPRESSION_LENGTH = 256;

/**
 * The longest `rate(...)` keyshift takes, in days: 100 years. AWS documents no maximum value, but
 * keyshift computes with the interval (the heartbeat's next start, the hygiene audit's "overdue"),
 * and `rate(99999999999999999999 days)` is no exact number in JavaScript, nor a Date.
 */
export const MAX_RATE_DAYS = 36_500;
const UNIT_DAYS: Record<string, number> = { minute: 1 / 1440, hour: 1 / 24, day: 1 };
const RATE_EXAMPLE = "rate(30 days)";
const VALID = `e.g. ${RATE_EXAMPLE} or ${CRON_EXAMPLE}`;

/**
 * What is wrong with a schedule expression, or undefined when it is valid: refused where
 * EventBridge Scheduler refuses it (docs/deploy.md, "Schedule expressions"):
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 * 1. A string of at most 256 characters.
 * 2. `rate(value unit)`: a positive integer and minute(s)/hour(s)/day(s), singular for 1 only.
 * 3. `cron(fields)`: six fields within their ranges, `?` in exactly one day field (cron-rules.ts).
 * 4. `at(...)` is one-time: keyshift rotates on a recurring schedule, so it is refused too.
 * Every answer names the expression, what is wrong and a valid example.
 */
export function scheduleProblem(expression: unknown): string | undefined {
  if (typeof expression !== "string") return `must be a string rate(...) or cron(...), ${VALID}`;
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    return `"${expression.slice(0, 40)}...": at most ${MAX_EXPRESSION_LENGTH} characters (EventBridge Scheduler's limit), ${VALID}`;
  }
  if (/^rate\(.*\)$/.test(expression)) return rateProblem(expression);
  const cron = CRON.exec(expression);
  if (cron) {
    const problem = cronFieldsProblem((cron[1] ?? "").trim().split(/\s+/));
    return problem && `${expression}: ${problem}, e.g. ${CRON_EXAMPLE}`;
  }
  if (/^at\(.*\)$/.test(expression)) {
    return `${expression}: at(...) is a one-time schedule; keyshift rotates on a recurring one, ${VALID}`;
  }
  return `"${expression}" must be rate(<n> minute[s]|hour[s]|day[s]) or cron(<6 fields>), ${VALID}`;
}

function rateProblem(expression: string): string | undefined {
  const m = RATE.exec(expression);
  if (!m) {
    return `${expression}: must be rate(value unit) with a positive integer value and unit minute(s), hour(s) or day(s), e.g. ${RATE_EXAMPLE}`;
  }
  const value = Number(m[1]);
  const unit = m[2] ?? "";
  if (value < 1) return `${expression}: the value must be a positive integer, e.g. ${RATE_EXAMPLE}`;
  const singular = !unit.endsWith("s");
  // EventBridge rejects rate(1 days) and rate(2 day).
  if (value === 1 && !singular)
    return `${expression}: use the singular unit for 1, e.g. rate(1 ${unit.slice(0, -1)})`;
  if (value !== 1 && singular) return `${expression}: use the plural unit, e.g. rate(${value} ${unit}s)`;
  const days = value * (UNIT_DAYS[unit.replace(/s$/, "")] ?? 1);
  if (days > MAX_RATE_DAYS) {
    return `${expression}: at most ${MAX_RATE_DAYS} days (100 years) between rotations, e.g. ${RATE_EXAMPLE}`;
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
