"use strict";
/**
 * The rules an enrollment entry must satisfy that come from outside this repository's config code:
 * EventBridge's schedule expression syntax, and the workflow's own limits (lock lease, history budget)
 * mirrored from src/core. Used by infra/enrollment.cjs; CommonJS for the same reason.
 */

/** `leaseSecondsFor` in src/core/deps.ts: the lock outlives the deadline by an hour. */
const LEASE_MARGIN_SECONDS = 3600;
/** src/core/revocation/readiness.ts: EVENTS_PER_CHECK and MAX_WAIT_EVENTS (25,000-event history limit). */
const EVENTS_PER_CHECK = 10;
const MAX_WAIT_EVENTS = 20_000;

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(([^()]+)\)$/;
const CRON_FIELD = /^[0-9A-Za-z*?,/#-]+$/;
const UNIT_SECONDS = { minute: 60, hour: 3600, day: 86_400 };

/** Seconds between runs of a `rate(...)` expression; undefined for `cron(...)`. */
function rateSeconds(expression) {
  const m = RATE.exec(expression);
  if (!m) return undefined;
  const unit = m[2].replace(/s$/, "");
  return Number(m[1]) * UNIT_SECONDS[unit];
}

/** What is wrong with an EventBridge schedule expression, or undefined when it is valid. */
function scheduleProblem(expression) {
  if (typeof expression !== "string") return "must be a string rate(...) or cron(...)";
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    if (value < 1) return `${expression}: the value must be a positive integer`;
    const singular = !rate[2].endsWith("s");
    // EventBridge rejects rate(1 days) and rate(2 day).
    if (value === 1 && !singular)
      return `${expression}: use the singular unit for 1, e.g. rate(1 ${rate[2].slice(0, -1)})`;
    if (value !== 1 && singular) return `${expression}: use the plural unit, e.g. rate(${value} ${rate[2]}s)`;
    return undefined;
  }
  const cron = CRON.exec(expression);
  if (cron) {
    const fields = cron[1].trim().split(/\s+/);
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
  return `"${expression}" must be rate(<n> minute[s]|hour[s]|day[s]) or cron(<6 fields>)`;
}

/**
 * src/core/revocation/readiness.ts MAX_DEADLINE_SECONDS (13 days): the one deadline bound `enroll` and this
 * config check apply; kept in step by test/deploy/enrollment.test.ts.
 */
const MAX_DEADLINE_SECONDS = 13 * 24 * 3600;
/** src/core/revocation/readiness.ts: past this many growing waits the interval cannot be growing any more. */
const MAX_GROWING_WAITS = 4000;

/**
 * Mirrors `maxChecks` in src/core/revocation/readiness.ts (kept in step by test/deploy/enrollment.test.ts):
 * counts the waits while the interval grows, then closed form, so any deadline answers at once.
 */
function maxChecks(settings) {
  const { pollIntervalSeconds, maxPollIntervalSeconds, deadlineSeconds } = settings;
  if (Number.isNaN(pollIntervalSeconds) || Number.isNaN(maxPollIntervalSeconds))
    return Number.POSITIVE_INFINITY;
  if (!(deadlineSeconds < Number.POSITIVE_INFINITY)) return Number.POSITIVE_INFINITY;
  const next = (iteration, secondsToDeadline) => {
    const grown = Math.min(maxPollIntervalSeconds, pollIntervalSeconds * 1.5 ** iteration);
    return Math.max(1, Math.ceil(Math.min(grown, Math.max(1, secondsToDeadline))));
  };
  let elapsed = 0;
  let checks = 0;
  while (elapsed < deadlineSeconds && checks < MAX_GROWING_WAITS) {
    if (pollIntervalSeconds * 1.5 ** checks >= maxPollIntervalSeconds) break;
    elapsed += next(checks, deadlineSeconds - elapsed);
    checks += 1;
  }
  if (elapsed < deadlineSeconds) {
    const wait = checks < MAX_GROWING_WAITS ? Math.max(1, Math.ceil(maxPollIntervalSeconds)) : 1;
    checks += Math.max(1, Math.ceil((deadlineSeconds - elapsed) / wait));
  }
  return checks + 1;
}

module.exports = {
  EVENTS_PER_CHECK,
  LEASE_MARGIN_SECONDS,
  MAX_DEADLINE_SECONDS,
  MAX_WAIT_EVENTS,
  maxChecks,
  rateSeconds,
  scheduleProblem,
};
