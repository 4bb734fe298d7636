import { heartbeatIntervals } from "../consumers/heartbeat-policy";
import { rateSeconds } from "../schedule";
import type { EntryCheck } from "./entry-check";
import {
  ACCOUNT,
  CONSUMER_BOUNDS,
  CONSUMER_KEYS,
  ENTRY_KEYS,
  isInt,
  isObject,
  MAX_LIVENESS_MULTIPLIER,
  SECRET_ID,
  SECRET_PREFIX,
} from "./fields";
import { scheduleMeetsRotationProblem, scheduleProblem } from "./schedule-rules";
import { flexibleWindowProblem, timezoneProblem } from "./schedule-spec";
import { deadlineProblem, historyBudgetProblem, overlapProblem } from "./wait-rules";

/**
 * The steps that check one entry, in the order its problems are listed. Each reports what it
 * finds and answers which fields it accepted, so a later rule that relates two fields only runs
 * on fields that are sane on their own.
 */

export function checkUnknownFields(check: EntryCheck, item: Record<string, unknown>): void {
  for (const key of Object.keys(item)) {
    if (!ENTRY_KEYS.includes(key)) check.report(key, `unknown field (allowed: ${ENTRY_KEYS.join(", ")})`);
  }
}

/** The secret's name and account; `seen` maps the names of earlier entries to their index. */
export function checkIdentity(check: EntryCheck, index: number, seen: Map<string, number>): void {
  const { secretId, exchangeAccount } = check.fields;
  if (!check.missing("secretId")) {
    if (typeof secretId !== "string" || !SECRET_ID.test(secretId)) {
      check.report("secretId", "must be 1-512 characters of A-Z a-z 0-9 / _ + = . @ -");
    } else if (!secretId.startsWith(SECRET_PREFIX) || secretId.length === SECRET_PREFIX.length) {
      check.report("secretId", `must start with "${SECRET_PREFIX}" (the prefix the IAM policies grant)`);
    } else if (seen.has(secretId)) {
      check.report("secretId", `duplicate of secrets[${seen.get(secretId)}]`);
    } else {
      seen.set(secretId, index);
    }
  }
  if (
    !check.missing("exchangeAccount") &&
    (typeof exchangeAccount !== "string" || !ACCOUNT.test(exchangeAccount))
  ) {
    check.report(
      "exchangeAccount",
      "must be 1-64 characters of A-Z a-z 0-9 _ . - (starting with a letter or digit)",
    );
  }
}

/**
 * The schedule expression, `enabled`, the time zone its cron fields are read in and the flexible
 * window (EventBridge Scheduler's ScheduleExpressionTimezone and FlexibleTimeWindow); answers
 * whether the expression is valid.
 */
export function checkSchedule(check: EntryCheck): boolean {
  let scheduleOk = false;
  if (!check.missing("schedule")) {
    const problem = scheduleProblem(check.fields.schedule);
    if (problem) check.report("schedule", problem);
    scheduleOk = !problem;
  }
  if (check.fields.enabled !== undefined && typeof check.fields.enabled !== "boolean")
    check.report("enabled", "must be true or false");
  if (check.fields.timezone !== undefined) {
    const problem = timezoneProblem(check.fields.timezone);
    if (problem) check.report("timezone", problem);
  }
  const window = flexibleWindowProblem(check.fields.flexibleWindowMinutes);
  if (window) check.report("flexibleWindowMinutes", window);
  return scheduleOk;
}

export interface WaitFieldsOk {
  overlap: boolean;
  deadline: boolean;
  poll: boolean;
  maxPoll: boolean;
}

/** The overlap, deadline and poll intervals each on its own; the deadline bound first of all. */
export function checkWaitFields(check: EntryCheck, executionTimeoutSeconds: number): WaitFieldsOk {
  const overlap = check.integer("minOverlapSeconds", 0);
  // The bound first: every later rule (the history budget above all) may assume a sane deadline.
  let deadline = check.integer("deadlineSeconds", 60, Number.POSITIVE_INFINITY);
  const tooLong = deadline && deadlineProblem(check.number("deadlineSeconds"), executionTimeoutSeconds);
  if (tooLong) {
    check.report("deadlineSeconds", tooLong);
    deadline = false;
  }
  const poll = check.integer("pollIntervalSeconds", 1);
  const maxPoll = check.integer("maxPollIntervalSeconds", 1);
  return { overlap, deadline, poll, maxPoll };
}

/** Liveness of old instance rows, and the two-stage revocation's grace. */
export function checkLivenessAndRemoval(check: EntryCheck): void {
  const multiplier = check.fields.livenessMultiplier;
  if (
    !check.missing("livenessMultiplier") &&
    (typeof multiplier !== "number" || !(multiplier >= 1 && multiplier <= MAX_LIVENESS_MULTIPLIER))
  ) {
    check.report("livenessMultiplier", `must be a number from 1 to ${MAX_LIVENESS_MULTIPLIER}`);
  }
  // Optional: only exchanges that can disable keys use it (two-stage revocation).
  const removeAfter = check.fields.removeAfterSeconds;
  if (removeAfter !== undefined && (!isInt(removeAfter) || removeAfter < 0)) {
    check.report("removeAfterSeconds", "must be an integer >= 0 (seconds a disabled key stays restorable)");
  }
}

/**
 * Server-driven heartbeats (consumers/heartbeat-policy.ts): optional, with the core's defaults.
 * Answers the idle interval when it is sane, else undefined.
 */
export function checkHeartbeats(check: EntryCheck): number | undefined {
  const idleOk = check.optionalInteger("idleHeartbeatSeconds", 1);
  const activeOk = check.optionalInteger("activeHeartbeatSeconds", 1);
  check.optionalInteger("livenessGraceSeconds", 0);
  const { idleHeartbeatSeconds: idle, activeHeartbeatSeconds: active } = heartbeatIntervals(
    check.fields as { idleHeartbeatSeconds?: number; activeHeartbeatSeconds?: number },
  );
  if (idleOk && activeOk && active > idle) {
    check.report("activeHeartbeatSeconds", `${active} must be <= idleHeartbeatSeconds (${idle})`);
  }
  return idleOk ? idle : undefined;
}

/** The rules that relate the wait's fields to each other, to the consumers and to the schedule. */
export function checkWaitRules(
  check: EntryCheck,
  ok: WaitFieldsOk & { schedule: boolean; idle: number | undefined; cacheTtlSeconds: number },
): void {
  const n = (field: string) => check.number(field);
  if (ok.overlap && ok.idle !== undefined) {
    const problem = overlapProblem(n("minOverlapSeconds"), ok.idle, ok.cacheTtlSeconds);
    if (problem) check.report("minOverlapSeconds", problem);
  }
  if (ok.deadline && ok.overlap && n("deadlineSeconds") <= n("minOverlapSeconds")) {
    check.report("deadlineSeconds", `must be greater than minOverlapSeconds (${n("minOverlapSeconds")})`);
  }
  if (ok.poll && ok.maxPoll && n("maxPollIntervalSeconds") < n("pollIntervalSeconds")) {
    check.report("maxPollIntervalSeconds", `must be >= pollIntervalSeconds (${n("pollIntervalSeconds")})`);
  }
  if (ok.deadline && ok.poll && ok.maxPoll && n("maxPollIntervalSeconds") >= n("pollIntervalSeconds")) {
    const problem = historyBudgetProblem({
      pollIntervalSeconds: n("pollIntervalSeconds"),
      maxPollIntervalSeconds: n("maxPollIntervalSeconds"),
      deadlineSeconds: n("deadlineSeconds"),
    });
    if (problem) check.report("maxPollIntervalSeconds", problem);
  }
  const schedule = check.fields.schedule as string;
  const interval = ok.schedule ? rateSeconds(schedule) : undefined;
  const meets = ok.deadline && scheduleMeetsRotationProblem(schedule, interval, n("deadlineSeconds"));
  if (meets) check.report("schedule", meets);
}

/** The consumer defaults (merged from `defaults` and the entry): what `register-consumer` accepts. */
export function checkConsumer(check: EntryCheck, consumer: Record<string, unknown>): void {
  if (check.missing("consumer")) return;
  if (!isObject(check.fields.consumer)) {
    check.report("consumer", "must be a mapping {cacheTtlSeconds, heartbeatIntervalSeconds, required}");
    return;
  }
  for (const key of Object.keys(consumer)) {
    if (!CONSUMER_KEYS.includes(key))
      check.report(`consumer.${key}`, `unknown field (allowed: ${CONSUMER_KEYS.join(", ")})`);
  }
  for (const [field, { min, max }] of Object.entries(CONSUMER_BOUNDS)) {
    const v = consumer[field];
    if (!isInt(v) || v < min || v > max)
      check.report(`consumer.${field}`, `must be an integer from ${min} to ${max}`);
  }
  if (typeof consumer.required !== "boolean") check.report("consumer.required", "must be true or false");
}
