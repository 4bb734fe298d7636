"use strict";
/**
 * The enrollment config (`rotation.config.yml`): which exchange-key secrets keyshift rotates, on
 * which schedule, with which overlap and deadline. serverless.yml turns every entry into an
 * EventBridge schedule on the rotation state machine through `${file(infra/enrollment.cjs):schedules}`,
 * so an invalid file fails `serverless package` with every problem named by entry and field.
 *
 * CommonJS on purpose: osls `require()`s this file and the package is `"type": "module"`.
 * Types for the TypeScript side (tests, CLI) are in `enrollment.d.cts`.
 */
const fs = require("node:fs");
const path = require("node:path");
const YAML = require("yaml");

const SERVICE_DIR = path.resolve(__dirname, "..");
const DEFAULT_CONFIG_PATH = "rotation.config.yml";
const ASL_PATH = path.join(SERVICE_DIR, "statemachines", "rotation.asl.json");

const SECRET_PREFIX = "keyshift/exchange/";
/** Same character set as `secretIdSchema` in src/commons/schemas.ts (Secrets Manager names). */
const SECRET_ID = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** The account names its admin secret `keyshift/admin/<account>`, so it stays a plain name. */
const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** `leaseSecondsFor` in src/core/use-cases/deps.ts: the lock outlives the deadline by an hour. */
const LEASE_MARGIN_SECONDS = 3600;
/** src/core/readiness.ts: EVENTS_PER_CHECK and MAX_WAIT_EVENTS (25,000-event history limit). */
const EVENTS_PER_CHECK = 10;
const MAX_WAIT_EVENTS = 20_000;

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\(([^()]+)\)$/;
const CRON_FIELD = /^[0-9A-Za-z*?,/#-]+$/;
const UNIT_SECONDS = { minute: 60, hour: 3600, day: 86_400 };

const ENTRY_KEYS = [
  "secretId",
  "exchangeAccount",
  "schedule",
  "enabled",
  "minOverlapSeconds",
  "deadlineSeconds",
  "pollIntervalSeconds",
  "maxPollIntervalSeconds",
  "livenessMultiplier",
  "consumer",
];
/** Everything but the identity of a secret may come from `defaults`. */
const DEFAULTABLE_KEYS = ENTRY_KEYS.filter((k) => k !== "secretId" && k !== "exchangeAccount");
const CONSUMER_KEYS = ["cacheTtlSeconds", "heartbeatIntervalSeconds", "required"];

class EnrollmentConfigError extends Error {
  /** @param {string} source @param {string[]} problems */
  constructor(source, problems) {
    super(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnrollmentConfigError";
    this.problems = problems;
    // osls prints `error.stack` of a failed variable source: keep it to the message.
    this.stack = `${this.name}: ${this.message}`;
  }
}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isInt = (v) => typeof v === "number" && Number.isInteger(v);

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

/** Mirrors `maxChecks` in src/core/readiness.ts (kept in step by test/deploy/enrollment.test.ts). */
function maxChecks(settings) {
  const next = (iteration, secondsToDeadline) => {
    const grown = Math.min(settings.maxPollIntervalSeconds, settings.pollIntervalSeconds * 1.5 ** iteration);
    return Math.max(1, Math.ceil(Math.min(grown, Math.max(1, secondsToDeadline))));
  };
  let elapsed = 0;
  let checks = 0;
  while (elapsed < settings.deadlineSeconds) {
    elapsed += next(checks, settings.deadlineSeconds - elapsed);
    checks += 1;
  }
  return checks + 1;
}

function executionTimeoutSeconds() {
  const asl = JSON.parse(fs.readFileSync(ASL_PATH, "utf8"));
  return asl.TimeoutSeconds;
}

/**
 * Validates a parsed config and returns the secrets with `defaults` applied. Throws
 * `EnrollmentConfigError` listing every problem as `entry secrets[i] (<secretId>), field <name>: ...`.
 */
function validateEnrollment(raw, source = DEFAULT_CONFIG_PATH) {
  const problems = [];
  if (!isObject(raw))
    throw new EnrollmentConfigError(source, ["the file must be a mapping with a `secrets:` list"]);
  for (const key of Object.keys(raw)) {
    if (key !== "defaults" && key !== "secrets")
      problems.push(`top level: unknown key "${key}" (allowed: defaults, secrets)`);
  }
  const defaults = raw.defaults ?? {};
  if (!isObject(defaults)) {
    problems.push("defaults: must be a mapping");
  } else {
    for (const key of Object.keys(defaults)) {
      if (!DEFAULTABLE_KEYS.includes(key))
        problems.push(`defaults: unknown key "${key}" (allowed: ${DEFAULTABLE_KEYS.join(", ")})`);
    }
  }
  if (!Array.isArray(raw.secrets)) {
    problems.push("secrets: must be a list of enrolled secrets (use `secrets: []` for none)");
    throw new EnrollmentConfigError(source, problems);
  }

  const timeoutSeconds = executionTimeoutSeconds();
  const seen = new Map();
  const secrets = raw.secrets.map((item, index) => {
    const label = isObject(item) && typeof item.secretId === "string" ? ` (${item.secretId})` : "";
    const at = (field) => `entry secrets[${index}]${label}, field ${field}`;
    if (!isObject(item)) {
      problems.push(
        `entry secrets[${index}]: must be a mapping with secretId, exchangeAccount, schedule, ...`,
      );
      return undefined;
    }
    for (const key of Object.keys(item)) {
      if (!ENTRY_KEYS.includes(key))
        problems.push(`${at(key)}: unknown field (allowed: ${ENTRY_KEYS.join(", ")})`);
    }
    const base = isObject(defaults) ? defaults : {};
    const e = { ...base, ...item };
    const missing = (field) => {
      if (e[field] !== undefined) return false;
      problems.push(
        `${at(field)}: required (set it on the entry${DEFAULTABLE_KEYS.includes(field) ? " or in defaults" : ""})`,
      );
      return true;
    };

    if (!missing("secretId")) {
      if (typeof e.secretId !== "string" || !SECRET_ID.test(e.secretId)) {
        problems.push(`${at("secretId")}: must be 1-512 characters of A-Z a-z 0-9 / _ + = . @ -`);
      } else if (!e.secretId.startsWith(SECRET_PREFIX) || e.secretId.length === SECRET_PREFIX.length) {
        problems.push(
          `${at("secretId")}: must start with "${SECRET_PREFIX}" (the prefix the IAM policies grant)`,
        );
      } else if (seen.has(e.secretId)) {
        problems.push(`${at("secretId")}: duplicate of secrets[${seen.get(e.secretId)}]`);
      } else {
        seen.set(e.secretId, index);
      }
    }
    if (
      !missing("exchangeAccount") &&
      (typeof e.exchangeAccount !== "string" || !ACCOUNT.test(e.exchangeAccount))
    ) {
      problems.push(
        `${at("exchangeAccount")}: must be 1-64 characters of A-Z a-z 0-9 _ . - (starting with a letter or digit)`,
      );
    }
    if (!missing("schedule")) {
      const problem = scheduleProblem(e.schedule);
      if (problem) problems.push(`${at("schedule")}: ${problem}`);
    }
    if (e.enabled !== undefined && typeof e.enabled !== "boolean")
      problems.push(`${at("enabled")}: must be true or false`);

    const intField = (field, min) => {
      if (missing(field)) return false;
      if (!isInt(e[field]) || e[field] < min) {
        problems.push(`${at(field)}: must be an integer >= ${min}`);
        return false;
      }
      return true;
    };
    const overlapOk = intField("minOverlapSeconds", 0);
    const deadlineOk = intField("deadlineSeconds", 60);
    const pollOk = intField("pollIntervalSeconds", 1);
    const maxPollOk = intField("maxPollIntervalSeconds", 1);
    if (
      !missing("livenessMultiplier") &&
      (typeof e.livenessMultiplier !== "number" || !(e.livenessMultiplier >= 1))
    ) {
      problems.push(`${at("livenessMultiplier")}: must be a number >= 1`);
    }

    if (deadlineOk && overlapOk && e.deadlineSeconds <= e.minOverlapSeconds) {
      problems.push(
        `${at("deadlineSeconds")}: must be greater than minOverlapSeconds (${e.minOverlapSeconds})`,
      );
    }
    if (deadlineOk && e.deadlineSeconds + LEASE_MARGIN_SECONDS > timeoutSeconds) {
      problems.push(
        `${at("deadlineSeconds")}: must be at most ${timeoutSeconds - LEASE_MARGIN_SECONDS} ` +
          `(the execution's TimeoutSeconds ${timeoutSeconds} minus ${LEASE_MARGIN_SECONDS}s for the other steps)`,
      );
    }
    if (pollOk && maxPollOk && e.maxPollIntervalSeconds < e.pollIntervalSeconds) {
      problems.push(
        `${at("maxPollIntervalSeconds")}: must be >= pollIntervalSeconds (${e.pollIntervalSeconds})`,
      );
    }
    if (deadlineOk && pollOk && maxPollOk && e.maxPollIntervalSeconds >= e.pollIntervalSeconds) {
      const events = maxChecks(e) * EVENTS_PER_CHECK;
      if (events > MAX_WAIT_EVENTS) {
        problems.push(
          `${at("maxPollIntervalSeconds")}: the wait loop could write ${events} history events before the deadline ` +
            `(budget ${MAX_WAIT_EVENTS} of 25,000): raise maxPollIntervalSeconds or shorten deadlineSeconds`,
        );
      }
    }
    const interval = typeof e.schedule === "string" ? rateSeconds(e.schedule) : undefined;
    if (interval !== undefined && deadlineOk && interval <= e.deadlineSeconds + LEASE_MARGIN_SECONDS) {
      problems.push(
        `${at("schedule")}: ${e.schedule} starts a rotation every ${interval}s, which must be longer than ` +
          `deadlineSeconds + ${LEASE_MARGIN_SECONDS} (${e.deadlineSeconds + LEASE_MARGIN_SECONDS}s, the lock lease)`,
      );
    }

    const consumer = {
      ...(isObject(base.consumer) ? base.consumer : {}),
      ...(isObject(item.consumer) ? item.consumer : {}),
    };
    if (!missing("consumer")) {
      if (!isObject(e.consumer)) {
        problems.push(
          `${at("consumer")}: must be a mapping {cacheTtlSeconds, heartbeatIntervalSeconds, required}`,
        );
      } else {
        for (const key of Object.keys(consumer)) {
          if (!CONSUMER_KEYS.includes(key))
            problems.push(`${at(`consumer.${key}`)}: unknown field (allowed: ${CONSUMER_KEYS.join(", ")})`);
        }
        if (!isInt(consumer.cacheTtlSeconds) || consumer.cacheTtlSeconds < 0) {
          problems.push(`${at("consumer.cacheTtlSeconds")}: must be an integer >= 0`);
        }
        if (!isInt(consumer.heartbeatIntervalSeconds) || consumer.heartbeatIntervalSeconds < 1) {
          problems.push(`${at("consumer.heartbeatIntervalSeconds")}: must be an integer >= 1`);
        }
        if (typeof consumer.required !== "boolean")
          problems.push(`${at("consumer.required")}: must be true or false`);
      }
    }
    return { ...e, enabled: e.enabled ?? true, consumer };
  });

  if (problems.length > 0) throw new EnrollmentConfigError(source, problems);
  return { secrets };
}

/** Reads and validates a config file (path relative to the service directory). */
function loadEnrollment(file = DEFAULT_CONFIG_PATH) {
  const absolute = path.resolve(SERVICE_DIR, file);
  let text;
  try {
    text = fs.readFileSync(absolute, "utf8");
  } catch (err) {
    throw new EnrollmentConfigError(file, [`cannot read ${absolute}: ${err.code ?? err.message}`]);
  }
  let raw;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new EnrollmentConfigError(file, [`not valid YAML: ${err.message.split("\n")[0]}`]);
  }
  return validateEnrollment(raw, file);
}

/** One serverless-step-functions `schedule` event per enrolled secret. */
function scheduleEvents(config) {
  return config.secrets.map((s) => ({
    schedule: {
      rate: s.schedule,
      enabled: s.enabled,
      description: `keyshift: scheduled rotation of ${s.secretId}`.slice(0, 512),
      input: { secretId: s.secretId, trigger: "schedule" },
    },
  }));
}

module.exports = {
  DEFAULT_CONFIG_PATH,
  EnrollmentConfigError,
  validateEnrollment,
  loadEnrollment,
  scheduleEvents,
  maxChecks,
  /** `${file(infra/enrollment.cjs):schedules}`: the config file comes from `custom.rotationConfig`. */
  schedules: async ({ resolveVariable }) => {
    const file = await resolveVariable("self:custom.rotationConfig");
    return scheduleEvents(loadEnrollment(typeof file === "string" ? file : DEFAULT_CONFIG_PATH));
  },
};
