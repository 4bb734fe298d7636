const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT: Record<string, number> = { minute: 60, hour: 3600, day: 86_400 };

/**
 * How often a schedule starts a rotation, in seconds: exact for `rate(...)`; for `cron(...)` the
 * longest gap its day fields allow (a day-of-month or `#n` weekday: a month of 31 days; a weekday
 * list: a week; otherwise a day). Undefined for an expression it cannot read.
 */
export function scheduleIntervalSeconds(expression: string): number | undefined {
  const rate = RATE.exec(expression);
  if (rate) return Number(rate[1]) * (UNIT[(rate[2] ?? "").replace(/s$/, "")] ?? Number.NaN);
  const cron = /^cron\((.+)\)$/.exec(expression);
  const fields = cron?.[1]?.trim().split(/\s+/);
  if (fields?.length !== 6) return undefined;
  const [, , dayOfMonth, month, dayOfWeek] = fields;
  if (month !== "*" && month !== "?") return 366 * 86_400;
  if ((dayOfMonth !== "*" && dayOfMonth !== "?") || dayOfWeek?.includes("#") || dayOfWeek?.includes("L"))
    return 31 * 86_400;
  if (dayOfWeek !== "*" && dayOfWeek !== "?") return 7 * 86_400;
  return 86_400;
}
