import { createHash } from "node:crypto";
import type { RotationSchedule, ScheduleRetryPolicy, ScheduleTarget } from "../ports/schedules";
import { SECRET_PREFIX } from "./fields";

/**
 * What an enrolled secret's rotation schedule is in EventBridge Scheduler, and the rules of its
 * extra fields. The expression itself is checked by schedule-rules.ts / cron-rules.ts.
 * API: https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
 */

/** Used when an entry names no time zone: cron fields read in UTC, as the EventBridge rules did. */
export const DEFAULT_TIMEZONE = "UTC";
/** FlexibleTimeWindow.MaximumWindowInMinutes: 1 to 1440 (CreateSchedule). */
export const FLEXIBLE_WINDOW_MINUTES = { min: 1, max: 1440 } as const;
/** ScheduleExpressionTimezone: 1 to 50 characters (CreateSchedule). */
const MAX_TIMEZONE_LENGTH = 50;
/** Schedule and group names: 1-64 of `0-9a-zA-Z-_.` (CreateSchedule's Name). */
export const SCHEDULE_NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;
/** Every rotation schedule's name starts with this, so `--prune` never touches another schedule. */
export const SCHEDULE_NAME_PREFIX = "rotate-";

/**
 * A scheduled start is late at worst an hour, then dead-lettered: the retry the EventBridge rules
 * had (`custom.schedules.rotationRetryPolicy`). A retried start whose first attempt did start an
 * execution is turned away by BeginRotation's lock.
 */
export const ROTATION_RETRY_POLICY: ScheduleRetryPolicy = {
  maximumRetryAttempts: 10,
  maximumEventAgeInSeconds: 3600,
};

const TIMEZONES = new Set(Intl.supportedValuesOf("timeZone"));
/** An IANA name: `Area/Location` words. Newer Intl also takes offsets (`+05:00`); Scheduler wants a name. */
const TIMEZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/;
const TIMEZONE_EXAMPLE = "e.g. UTC, Europe/London or America/New_York";

/**
 * What is wrong with a `timezone`, or undefined: an IANA name as Scheduler takes it, spelled as
 * the IANA database spells it (`utc` and `+05:00` are refused; a link such as `US/Eastern` is kept).
 */
export function timezoneProblem(timezone: unknown): string | undefined {
  if (typeof timezone !== "string" || timezone === "")
    return `must be an IANA time zone name, ${TIMEZONE_EXAMPLE}`;
  if (timezone.length > MAX_TIMEZONE_LENGTH)
    return `"${timezone.slice(0, 40)}...": at most ${MAX_TIMEZONE_LENGTH} characters`;
  if (TIMEZONES.has(timezone) || timezone === DEFAULT_TIMEZONE) return undefined;
  const notAName = `"${timezone}" is not an IANA time zone name, ${TIMEZONE_EXAMPLE}`;
  if (!TIMEZONE_NAME.test(timezone)) return notAName;
  try {
    const resolved = new Intl.DateTimeFormat("en-US", { timeZone: timezone }).resolvedOptions().timeZone;
    if (resolved.toLowerCase() !== timezone.toLowerCase()) return undefined;
    return `"${timezone}" is not spelled as the IANA database spells it; use "${resolved}"`;
  } catch {
    return notAName;
  }
}

/** What is wrong with `flexibleWindowMinutes`, or undefined (absent means no window). */
export function flexibleWindowProblem(minutes: unknown): string | undefined {
  if (minutes === undefined) return undefined;
  const { min, max } = FLEXIBLE_WINDOW_MINUTES;
  if (typeof minutes === "number" && Number.isInteger(minutes) && minutes >= min && minutes <= max)
    return undefined;
  return `must be an integer from ${min} to ${max} (minutes Scheduler may start late to spread rotations; omit it to start on time)`;
}

/**
 * The schedule name of a secret: `rotate-<readable part>-<hash>`, at most 64 characters, unique by
 * a hash of the whole id (the readable part is cut to fit): apply finds a secret's schedule by it.
 */
export function scheduleNameOf(secretId: string): string {
  const digest = createHash("sha256").update(secretId).digest("hex").slice(0, 10);
  const slug = secretId
    .slice(secretId.startsWith(SECRET_PREFIX) ? SECRET_PREFIX.length : 0)
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  const room = 64 - SCHEDULE_NAME_PREFIX.length - digest.length - 1;
  const readable = slug.slice(0, room - 1).replace(/-+$/, "");
  return readable ? `${SCHEDULE_NAME_PREFIX}${readable}-${digest}` : `${SCHEDULE_NAME_PREFIX}${digest}`;
}

/** What the deployment gives every schedule: the state machine, the role, the queue. */
export interface ScheduleDeployment {
  stateMachineArn: string;
  roleArn: string;
  deadLetterArn: string;
}

/** The part of a declared secret its schedule is made of. */
export interface DeclaredSchedule {
  secretId: string;
  schedule: string;
  enabled: boolean;
  timezone?: string;
  flexibleWindowMinutes?: number;
}

/** The input a scheduled start gives the state machine: the same the EventBridge rules gave. */
export function scheduledStartInput(secretId: string): string {
  return JSON.stringify({ secretId, trigger: "schedule" });
}

/** The whole schedule a declared secret maps to. */
export function rotationScheduleFor(
  declared: DeclaredSchedule,
  deployment: ScheduleDeployment,
): RotationSchedule {
  return {
    name: scheduleNameOf(declared.secretId),
    expression: declared.schedule,
    timezone: declared.timezone ?? DEFAULT_TIMEZONE,
    enabled: declared.enabled,
    ...(declared.flexibleWindowMinutes === undefined
      ? {}
      : { flexibleWindowMinutes: declared.flexibleWindowMinutes }),
    description: `keyshift: scheduled rotation of ${declared.secretId}`.slice(0, 512),
    target: {
      arn: deployment.stateMachineArn,
      roleArn: deployment.roleArn,
      deadLetterArn: deployment.deadLetterArn,
      retryPolicy: ROTATION_RETRY_POLICY,
      input: scheduledStartInput(declared.secretId),
    },
  };
}

/** One field that differs: `[field, deployed, declared]`, values as text. */
export type FieldChange = [field: string, deployed: string, declared: string];

/** A field as the diff shows it; absent and empty (a field Scheduler did not return) read `(none)`. */
const shown = (v: unknown) =>
  v === undefined || v === "" ? "(none)" : typeof v === "string" ? v : JSON.stringify(v);

/** Every field of the deployed schedule that is not what is declared (target fields by name). */
export function scheduleChanges(deployed: RotationSchedule, declared: RotationSchedule): FieldChange[] {
  const flat = (s: RotationSchedule): Record<string, unknown> => ({
    expression: s.expression,
    timezone: s.timezone,
    enabled: s.enabled,
    flexibleWindowMinutes: s.flexibleWindowMinutes,
    description: s.description,
    ...Object.fromEntries(
      (Object.keys(s.target) as (keyof ScheduleTarget)[]).map((k) => [`target.${k}`, s.target[k]]),
    ),
  });
  const before = flat(deployed);
  const after = flat(declared);
  const changes: FieldChange[] = [];
  for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (shown(before[field]) !== shown(after[field]))
      changes.push([field, shown(before[field]), shown(after[field])]);
  }
  return changes;
}
