import {
  checkConsumer,
  checkHeartbeats,
  checkIdentity,
  checkLivenessAndRemoval,
  checkSchedule,
  checkUnknownFields,
  checkWaitFields,
  checkWaitRules,
} from "./entry";
import { entryCheck } from "./entry-check";
import { DEFAULTABLE_KEYS, isInt, isObject } from "./fields";
import { type EnrolledSecret, type Enrollment, EnrollmentConfigError, type WorkflowLimits } from "./model";

/** Where an enrollment config is unless a command's `--config` names another. */
export const DEFAULT_CONFIG_PATH = "rotation.config.yml";

/**
 * Validates a parsed enrollment config and returns the secrets with `defaults` applied: the one
 * check the CLI (`enroll`, `apply`, `register-consumer`, `list`) runs. Throws `EnrollmentConfigError` listing every problem as
 * `entry secrets[i] (<secretId>), field <name>: ...`.
 * 1. The top level: a mapping of `defaults` and a `secrets` list, nothing else.
 * 2. Each entry over `defaults` (`validateEntry`).
 * 3. Any problem: throw them all at once, so one `apply` run names everything to fix.
 */
export function validateEnrollment(
  raw: unknown,
  limits: WorkflowLimits,
  source: string = DEFAULT_CONFIG_PATH,
): Enrollment {
  if (!isObject(raw))
    throw new EnrollmentConfigError(source, ["the file must be a mapping with a `secrets:` list"]);
  const problems = topLevelProblems(raw);
  if (!Array.isArray(raw.secrets)) {
    problems.push("secrets: must be a list of enrolled secrets (use `secrets: []` for none)");
    throw new EnrollmentConfigError(source, problems);
  }
  const defaults = isObject(raw.defaults) ? raw.defaults : {};
  const seen = new Map<string, number>();
  const secrets = raw.secrets.map((item: unknown, index) =>
    validateEntry(item, index, { defaults, seen, problems, limits }),
  );
  if (problems.length > 0) throw new EnrollmentConfigError(source, problems);
  return { secrets: secrets as EnrolledSecret[] };
}

function topLevelProblems(raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
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
  return problems;
}

interface EntryContext {
  defaults: Record<string, unknown>;
  /** secretId of every earlier valid entry → its index. */
  seen: Map<string, number>;
  problems: string[];
  limits: WorkflowLimits;
}

/**
 * One entry over `defaults`, checked field by field, then the rules that relate fields. Its result
 * is an `EnrolledSecret` only when no problem was reported.
 */
function validateEntry(item: unknown, index: number, context: EntryContext): unknown {
  const { defaults, problems } = context;
  if (!isObject(item)) {
    problems.push(`entry secrets[${index}]: must be a mapping with secretId, exchangeAccount, schedule, ...`);
    return undefined;
  }
  const label = typeof item.secretId === "string" ? ` (${item.secretId})` : "";
  const check = entryCheck({ ...defaults, ...item }, `entry secrets[${index}]${label}`, problems);
  checkUnknownFields(check, item);
  checkIdentity(check, index, context.seen);
  const schedule = checkSchedule(check);
  const wait = checkWaitFields(check, context.limits.executionTimeoutSeconds);
  checkLivenessAndRemoval(check);
  const idle = checkHeartbeats(check);
  const consumer = {
    ...(isObject(defaults.consumer) ? defaults.consumer : {}),
    ...(isObject(item.consumer) ? item.consumer : {}),
  };
  const cacheTtlSeconds = isInt(consumer.cacheTtlSeconds) ? consumer.cacheTtlSeconds : 0;
  checkWaitRules(check, { ...wait, schedule, idle, cacheTtlSeconds });
  checkConsumer(check, consumer);
  return { ...check.fields, enabled: check.fields.enabled ?? true, consumer };
}
