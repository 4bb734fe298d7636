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
const {
  EVENTS_PER_CHECK,
  LEASE_MARGIN_SECONDS,
  MAX_DEADLINE_SECONDS,
  MAX_WAIT_EVENTS,
  maxChecks,
  rateSeconds,
  scheduleProblem,
} = require("./enrollment-rules.cjs");

const SERVICE_DIR = path.resolve(__dirname, "..");
const DEFAULT_CONFIG_PATH = "rotation.config.yml";
const ASL_PATH = path.join(SERVICE_DIR, "statemachines", "rotation.asl.json");

const SECRET_PREFIX = "keyshift/exchange/";
/** Same character set as `secretIdSchema` in src/commons/schemas.ts (Secrets Manager names). */
const SECRET_ID = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** The account names its admin secret `keyshift/admin/<account>`, so it stays a plain name. */
const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
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
  "removeAfterSeconds",
  "idleHeartbeatSeconds",
  "activeHeartbeatSeconds",
  "livenessGraceSeconds",
  "consumer",
];
/** src/core/consumers/heartbeat-policy.ts: the intervals an entry that leaves them out gets. */
const DEFAULT_IDLE_HEARTBEAT_SECONDS = 300;
const DEFAULT_ACTIVE_HEARTBEAT_SECONDS = 5;
/** Everything but the identity of a secret may come from `defaults`. */
const DEFAULTABLE_KEYS = ENTRY_KEYS.filter((k) => k !== "secretId" && k !== "exchangeAccount");
const CONSUMER_KEYS = ["cacheTtlSeconds", "heartbeatIntervalSeconds", "required"];
/** `REGISTRATION_BOUNDS` in src/core/consumers/registry-rules.ts: the defaults must pass `register-consumer`. */
const CONSUMER_BOUNDS = {
  cacheTtlSeconds: { min: 0, max: 7 * 24 * 3600 },
  heartbeatIntervalSeconds: { min: 1, max: 24 * 3600 },
};
/** Infinity is a number >= 1, and DynamoDB refuses it; a hundred missed heartbeats is already silence. */
const MAX_LIVENESS_MULTIPLIER = 100;

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
    let scheduleOk = false;
    if (!missing("schedule")) {
      const problem = scheduleProblem(e.schedule);
      if (problem) problems.push(`${at("schedule")}: ${problem}`);
      scheduleOk = !problem;
    }
    if (e.enabled !== undefined && typeof e.enabled !== "boolean")
      problems.push(`${at("enabled")}: must be true or false`);

    // Upper bounds too: 1e200 is an integer to JavaScript, and DynamoDB refuses it at enroll time.
    // (The deadline gets its own bound, with its own reason, below.)
    const intField = (field, min, max = MAX_DEADLINE_SECONDS) => {
      if (missing(field)) return false;
      if (!isInt(e[field]) || e[field] < min || e[field] > max) {
        problems.push(`${at(field)}: must be an integer from ${min} to ${max}`);
        return false;
      }
      return true;
    };
    const overlapOk = intField("minOverlapSeconds", 0);
    // The bound first: every later rule (the history budget above all) may assume a sane deadline.
    const deadlineBound = Math.min(MAX_DEADLINE_SECONDS, timeoutSeconds - LEASE_MARGIN_SECONDS);
    let deadlineOk = intField("deadlineSeconds", 60, Number.POSITIVE_INFINITY);
    if (deadlineOk && e.deadlineSeconds > deadlineBound) {
      problems.push(
        `${at("deadlineSeconds")}: must be at most ${deadlineBound} (what enroll accepts: the wait, the lock ` +
          `lease and the last steps must end before the execution's TimeoutSeconds ${timeoutSeconds})`,
      );
      deadlineOk = false;
    }
    const pollOk = intField("pollIntervalSeconds", 1);
    const maxPollOk = intField("maxPollIntervalSeconds", 1);
    if (
      !missing("livenessMultiplier") &&
      (typeof e.livenessMultiplier !== "number" ||
        !(e.livenessMultiplier >= 1 && e.livenessMultiplier <= MAX_LIVENESS_MULTIPLIER))
    ) {
      problems.push(`${at("livenessMultiplier")}: must be a number from 1 to ${MAX_LIVENESS_MULTIPLIER}`);
    }

    // Optional: only exchanges that can disable keys use it (two-stage revocation).
    if (e.removeAfterSeconds !== undefined && (!isInt(e.removeAfterSeconds) || e.removeAfterSeconds < 0)) {
      problems.push(
        `${at("removeAfterSeconds")}: must be an integer >= 0 (seconds a disabled key stays restorable)`,
      );
    }

    // Server-driven heartbeats (src/core/consumers/heartbeat-policy.ts): optional, defaults 300 / 5 / 30.
    const optionalInt = (field, min) => {
      if (e[field] === undefined) return true;
      if (!isInt(e[field]) || e[field] < min) {
        problems.push(`${at(field)}: must be an integer >= ${min}`);
        return false;
      }
      return true;
    };
    const idleOk = optionalInt("idleHeartbeatSeconds", 1);
    const activeOk = optionalInt("activeHeartbeatSeconds", 1);
    optionalInt("livenessGraceSeconds", 0);
    const idle = e.idleHeartbeatSeconds ?? DEFAULT_IDLE_HEARTBEAT_SECONDS;
    const active = e.activeHeartbeatSeconds ?? DEFAULT_ACTIVE_HEARTBEAT_SECONDS;
    if (idleOk && activeOk && active > idle) {
      problems.push(`${at("activeHeartbeatSeconds")}: ${active} must be <= idleHeartbeatSeconds (${idle})`);
    }
    // Every live instance is heard from, and every cache refreshed, before the overlap ends.
    const merged = {
      ...(isObject(base.consumer) ? base.consumer : {}),
      ...(isObject(item.consumer) ? item.consumer : {}),
    };
    const ttl = isInt(merged.cacheTtlSeconds) ? merged.cacheTtlSeconds : 0;
    if (overlapOk && idleOk && e.minOverlapSeconds < Math.max(idle, ttl)) {
      problems.push(
        `${at("minOverlapSeconds")}: ${e.minOverlapSeconds} does not cover the consumers' cache TTL (${ttl}s) ` +
          `and the idle heartbeat interval (idleHeartbeatSeconds ${idle}s): set it to at least ${Math.max(idle, ttl)}, ` +
          "or lower idleHeartbeatSeconds / consumer.cacheTtlSeconds",
      );
    }

    if (deadlineOk && overlapOk && e.deadlineSeconds <= e.minOverlapSeconds) {
      problems.push(
        `${at("deadlineSeconds")}: must be greater than minOverlapSeconds (${e.minOverlapSeconds})`,
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
    const interval = scheduleOk ? rateSeconds(e.schedule) : undefined;
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
        for (const [field, { min, max }] of Object.entries(CONSUMER_BOUNDS)) {
          const v = consumer[field];
          if (!isInt(v) || v < min || v > max)
            problems.push(`${at(`consumer.${field}`)}: must be an integer from ${min} to ${max}`);
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
  CONSUMER_BOUNDS,
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
