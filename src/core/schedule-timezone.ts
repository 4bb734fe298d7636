import { CRON, nextScheduledStart } from "./schedule";

/**
 * Scheduled starts of a cron expression read in a time zone (EventBridge Scheduler's
 * ScheduleExpressionTimezone: "Sunday 06:00 New York", daylight saving included). `rate(...)` has
 * no zone: it counts from its anchor.
 */

const formats = new Map<string, Intl.DateTimeFormat>();

/** How far the zone's wall clock is ahead of UTC at `at`, in milliseconds (whole seconds). */
export function zoneOffsetMs(timezone: string, at: Date): number {
  let format = formats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formats.set(timezone, format);
  }
  const part = (type: string) => Number(format.formatToParts(at).find((p) => p.type === type)?.value);
  const wall = Date.UTC(
    part("year"),
    part("month") - 1,
    part("day"),
    part("hour"),
    part("minute"),
    part("second"),
  );
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * The first start strictly after `after` of `expression` in `timezone` (absent or UTC: as
 * `nextScheduledStart`). The cron fields are matched against the zone's wall clock, then the wall
 * time is turned back into an instant with the offset in force at that time.
 */
export function nextScheduledStartIn(
  expression: string,
  timezone: string | undefined,
  after: Date,
  anchor?: Date,
): Date | undefined {
  if (!timezone || timezone === "UTC" || !CRON.test(expression))
    return nextScheduledStart(expression, after, anchor);
  let offset: number;
  try {
    offset = zoneOffsetMs(timezone, after);
  } catch {
    return undefined;
  }
  const wall = nextScheduledStart(expression, new Date(after.getTime() + offset));
  if (!wall) return undefined;
  const guess = wall.getTime() - offset;
  const then = zoneOffsetMs(timezone, new Date(guess));
  return new Date(wall.getTime() - then);
}
