/**
 * The next start of an EventBridge schedule expression, so the heartbeat can bring a fleet back just
 * after a scheduled rotation begins. `cron(...)` is exact (UTC, EventBridge's six fields, with
 * `L`, `W` and `#`). `rate(...)` has no phase of its own: EventBridge counts it from when the rule was
 * created, which keyshift never sees, so the caller passes the anchor it knows (the enrollment time):
 * its answer is as good as that anchor (docs/architecture.md, "Heartbeat intervals").
 */

/** EventBridge's `rate(<value> <unit>)`: the enrollment check (core/enrollment) reads the same syntax. */
export const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
export const CRON = /^cron\(([^()]+)\)$/;
const UNIT_SECONDS: Record<string, number> = { minute: 60, hour: 3600, day: 86_400 };
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
/** EventBridge numbers days of the week 1-7 from Sunday. */
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
/** How far ahead a cron is searched; a year field can push the next start out that far. */
const SEARCH_DAYS = 5 * 366;
const DAY_MS = 86_400_000;

/** Seconds between two starts of a `rate(...)` expression; undefined for anything else. */
export function rateSeconds(expression: string): number | undefined {
  const m = RATE.exec(expression);
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_SECONDS[(m[2] ?? "").replace(/s$/, "")] ?? 0);
}

/**
 * How often a schedule starts a rotation, in seconds: exact for `rate(...)`; for `cron(...)` the
 * longest gap its day fields allow (a day-of-month or `#n`/`L` weekday: a month of 31 days; a month
 * field: a year; a weekday list: a week; otherwise a day). Undefined for an expression it cannot
 * read. The hygiene audit judges "overdue" by it.
 */
export function scheduleIntervalSeconds(expression: string): number | undefined {
  const rate = rateSeconds(expression);
  if (rate !== undefined) return rate;
  const fields = CRON.exec(expression)?.[1]?.trim().split(/\s+/);
  if (fields?.length !== 6) return undefined;
  const [, , dayOfMonth, month, dayOfWeek] = fields;
  if (month !== "*" && month !== "?") return 366 * 86_400;
  if ((dayOfMonth !== "*" && dayOfMonth !== "?") || dayOfWeek?.includes("#") || dayOfWeek?.includes("L"))
    return 31 * 86_400;
  if (dayOfWeek !== "*" && dayOfWeek !== "?") return 7 * 86_400;
  return 86_400;
}

/**
 * The first start strictly after `after`, or undefined when there is none within five years or the
 * expression is not one this understands (the heartbeat then simply answers its idle interval).
 */
export function nextScheduledStart(expression: string, after: Date, anchor?: Date): Date | undefined {
  const period = rateSeconds(expression);
  if (period !== undefined) {
    if (!anchor || period <= 0) return undefined;
    const elapsed = after.getTime() - anchor.getTime();
    const periods = elapsed < 0 ? 0 : Math.floor(elapsed / (period * 1000)) + 1;
    return new Date(anchor.getTime() + periods * period * 1000);
  }
  const t = after.getTime();
  const hit = cronStarts.get(expression);
  // No start lies in (hit.after, hit.next): any instant in between has the same next start.
  if (hit && t >= hit.after && t < hit.next) return new Date(hit.next);
  const m = CRON.exec(expression);
  if (!m) return undefined;
  let next: Date | undefined;
  try {
    next = nextCron(parseCron(m[1] ?? ""), after);
  } catch {
    return undefined;
  }
  if (next) {
    if (cronStarts.size >= CRON_CACHE_SIZE) cronStarts.clear();
    cronStarts.set(expression, { after: t, next: next.getTime() });
  }
  return next;
}

/**
 * The last answer per cron expression: every heartbeat of a scheduled secret asks for the next
 * start, and walking the calendar costs tens of microseconds; between two starts the answer is
 * the same. Bounded (a container serves few secrets); a pure cache of a pure function.
 */
const cronStarts = new Map<string, { after: number; next: number }>();
const CRON_CACHE_SIZE = 256;

interface Cron {
  minutes: Set<number>;
  hours: Set<number>;
  dayOfMonth: (year: number, month: number, day: number) => boolean;
  months: Set<number>;
  dayOfWeek: (year: number, month: number, day: number) => boolean;
  years: Set<number> | undefined;
}

function parseCron(body: string): Cron {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) throw new Error("cron needs 6 fields");
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  return {
    minutes: values(min, 0, 59),
    hours: values(hour, 0, 23),
    dayOfMonth: dayOfMonthMatcher(dom),
    months: values(month, 1, 12, MONTHS, 1),
    dayOfWeek: dayOfWeekMatcher(dow),
    years: year === "*" ? undefined : values(year, 1970, 2199),
  };
}

/** A field of numbers: `*`, `a`, `a-b`, `a/n`, `a-b/n`, `*\/n`, lists of those; names allowed. */
function values(field: string, min: number, max: number, names: string[] = [], base = 0): Set<number> {
  const out = new Set<number>();
  const num = (s: string): number => {
    const named = names.indexOf(s.toUpperCase());
    const n = named >= 0 ? named + base : Number(s);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${s} is out of range`);
    return n;
  };
  for (const part of field.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`bad step in ${part}`);
    let from = min;
    let to = max;
    if (range !== "*" && range !== "?") {
      const [a = "", b] = range.split("-");
      from = num(a);
      to = b === undefined ? (stepText === undefined ? from : max) : num(b);
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
/** 1 (Sunday) .. 7 (Saturday). */
const weekday = (year: number, month: number, day: number) =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;

function dayOfMonthMatcher(field: string): Cron["dayOfMonth"] {
  if (field === "?" || field === "*") return () => true;
  if (field === "L") return (y, m, d) => d === daysIn(y, m);
  if (field === "LW") {
    return (y, m, d) => d === nearestWeekday(y, m, daysIn(y, m));
  }
  const w = /^(\d{1,2})W$/.exec(field);
  if (w) {
    const target = Number(w[1]);
    return (y, m, d) => d === nearestWeekday(y, m, Math.min(target, daysIn(y, m)));
  }
  const set = values(field, 1, 31);
  return (_y, _m, d) => set.has(d);
}

/** The weekday nearest to `day` within the same month (EventBridge's `W`). */
function nearestWeekday(year: number, month: number, day: number): number {
  const wd = weekday(year, month, day);
  if (wd === 7) return day === 1 ? 3 : day - 1; // Saturday → Friday (or Monday the 3rd)
  if (wd === 1) return day === daysIn(year, month) ? day - 2 : day + 1; // Sunday → Monday (or Friday)
  return day;
}

function dayOfWeekMatcher(field: string): Cron["dayOfWeek"] {
  if (field === "?" || field === "*") return () => true;
  const nth = /^([A-Za-z]{3}|\d)#([1-5])$/.exec(field);
  if (nth) {
    const wd = [...values(nth[1] ?? "", 1, 7, DAYS, 1)][0] ?? 1;
    const n = Number(nth[2]);
    return (y, m, d) => weekday(y, m, d) === wd && Math.ceil(d / 7) === n;
  }
  const last = /^([A-Za-z]{3}|\d)L$/.exec(field);
  if (last) {
    const wd = [...values(last[1] ?? "", 1, 7, DAYS, 1)][0] ?? 1;
    return (y, m, d) => weekday(y, m, d) === wd && d + 7 > daysIn(y, m);
  }
  const set = values(field, 1, 7, DAYS, 1);
  return (y, m, d) => set.has(weekday(y, m, d));
}

/** Walks days (not minutes): at most a few thousand steps for any expression. */
function nextCron(cron: Cron, after: Date): Date | undefined {
  const from = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000);
  const startDay = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
  const hours = [...cron.hours].sort((a, b) => a - b);
  const minutes = [...cron.minutes].sort((a, b) => a - b);
  for (let i = 0; i <= SEARCH_DAYS; i++) {
    const day = new Date(startDay + i * DAY_MS);
    const [y, m, d] = [day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate()];
    if (cron.years && !cron.years.has(y)) continue;
    if (!cron.months.has(m) || !cron.dayOfMonth(y, m, d) || !cron.dayOfWeek(y, m, d)) continue;
    for (const h of hours) {
      for (const min of minutes) {
        const at = Date.UTC(y, m - 1, d, h, min);
        if (at >= from.getTime()) return new Date(at);
      }
    }
  }
  return undefined;
}
