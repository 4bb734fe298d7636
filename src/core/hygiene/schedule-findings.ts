import { createHash } from "node:crypto";
import {
  type FieldChange,
  rotationScheduleFor,
  SCHEDULE_NAME_PREFIX,
  type ScheduleDeployment,
  scheduleChanges,
  scheduleNameOf,
} from "../enrollment/schedule-spec";
import type { SecretSettings } from "../model";
import type { RotationSchedule, ScheduleStore, ScheduleSummary } from "../ports";
import type { HygieneFinding } from "./findings";

/**
 * The run-time rotation schedules against the enrolled settings: is each secret's EventBridge
 * Scheduler schedule in the stack's group, and is it what its settings call for?
 *
 * What is read, and why: ListSchedules pages the whole group (100 a call) once per run of the
 * audit — enough for `schedule-missing`, `schedule-orphan` and the drift a summary shows (state,
 * target). A summary carries no expression, time zone, window, role or input, so the rest of the
 * comparison needs GetSchedule, and 10,000 of those a week would spend Scheduler's request rate
 * (50 a second by default, shared with `apply` and `enroll`) on schedules nobody touched. So a
 * schedule is read whole when (1) it was modified within `RECENTLY_MODIFIED_MS` (an edit by hand
 * since the previous weekly audit: every CreateSchedule/UpdateSchedule moves LastModificationDate),
 * (2) its summary already differs, or (3) it falls in this week's sample: the fleet is cut into
 * slices of about `FULL_CHECKS_PER_AUDIT` by a hash of the name and one slice is read a week, so a
 * fleet up to that size is read whole every audit and every schedule is read whole within
 * ceil(fleet / FULL_CHECKS_PER_AUDIT) weeks (20 at 10,000). What only (3) catches — SETTINGS
 * rewritten without the schedule, e.g. an `apply` that crashed between the two — waits for its slice.
 */

/** What checking the schedules needs: the group's store, what every schedule calls, the group's name. */
export interface ScheduleCheck {
  schedules: Pick<ScheduleStore, "get" | "listSummaries">;
  deployment: ScheduleDeployment;
  group: string;
}

/** Schedules read whole per audit by the sample (besides the recently modified and the drifted). */
export const FULL_CHECKS_PER_AUDIT = 500;
const DAY_MS = 86_400_000;
/** A schedule modified this recently is read whole: the audit's weekly period and a day's margin. */
export const RECENTLY_MODIFIED_MS = 8 * DAY_MS;
const WEEK_MS = 7 * DAY_MS;

/** The group as one run of the audit read it: every summary by name. */
export type GroupListing = Map<string, ScheduleSummary>;

/** ListSchedules over the group, every page, once per run. */
export async function readGroup(check: ScheduleCheck): Promise<GroupListing> {
  return new Map((await check.schedules.listSummaries()).map((s) => [s.name, s]));
}

/** The schedule a secret's SETTINGS call for (what `enroll`/`apply` write); undefined: it declares none. */
export function expectedSchedule(
  settings: SecretSettings,
  deployment: ScheduleDeployment,
): RotationSchedule | undefined {
  if (!settings.schedule) return undefined;
  return rotationScheduleFor(
    {
      secretId: settings.secretId,
      schedule: settings.schedule,
      enabled: settings.scheduleEnabled !== false,
      ...(settings.scheduleTimezone === undefined ? {} : { timezone: settings.scheduleTimezone }),
      ...(settings.scheduleFlexibleWindowMinutes === undefined
        ? {}
        : { flexibleWindowMinutes: settings.scheduleFlexibleWindowMinutes }),
    },
    deployment,
  );
}

/** What a summary alone shows differs (`[field, deployed, declared]`): the state and the target. */
export function summaryChanges(summary: ScheduleSummary, expected: RotationSchedule): FieldChange[] {
  const changes: FieldChange[] = [];
  if (summary.enabled !== expected.enabled)
    changes.push(["enabled", String(summary.enabled), String(expected.enabled)]);
  if (summary.targetArn !== expected.target.arn)
    changes.push(["target.arn", summary.targetArn || "(none)", expected.target.arn]);
  return changes;
}

/** Whether this audit reads the schedule whole (GetSchedule): see the file's comment. */
export function readsWhole(
  summary: ScheduleSummary,
  expected: RotationSchedule,
  now: Date,
  fleetSize: number,
): boolean {
  if (now.getTime() - Date.parse(summary.modifiedAt) < RECENTLY_MODIFIED_MS) return true;
  if (summaryChanges(summary, expected).length > 0) return true;
  const slices = Math.max(1, Math.ceil(fleetSize / FULL_CHECKS_PER_AUDIT));
  const week = Math.floor(now.getTime() / WEEK_MS);
  return sliceOf(summary.name, slices) === week % slices;
}

function sliceOf(name: string, slices: number): number {
  return Number.parseInt(createHash("sha256").update(name).digest("hex").slice(0, 8), 16) % slices;
}

/** What the audit knows of one secret's schedule. */
export interface ScheduleFacts {
  expected: RotationSchedule | undefined;
  /** The group's summary by the expected name; undefined: no such schedule listed. */
  summary: ScheduleSummary | undefined;
  /** GetSchedule's answer when read whole; null: read, and gone since the listing; undefined: not read. */
  deployed?: RotationSchedule | null;
}

/** Per secret: gathers its schedule's facts (a GetSchedule only when `readsWhole`) and judges them. */
export async function scheduleFindings(
  settings: SecretSettings,
  listing: GroupListing,
  check: ScheduleCheck,
  now: Date,
  fleetSize: number,
): Promise<HygieneFinding[]> {
  const expected = expectedSchedule(settings, check.deployment);
  const summary = expected && listing.get(expected.name);
  const facts: ScheduleFacts = { expected, summary };
  if (expected && summary && readsWhole(summary, expected, now, fleetSize))
    facts.deployed = (await check.schedules.get(expected.name)) ?? null;
  return judgeRunTimeSchedule(settings.secretId, facts, check.group);
}

/**
 * Pure: `schedule-missing` (high) when the secret's schedule is not in the group; `schedule-drift`
 * (medium) naming every field that differs, `deployed -> declared`, as `keyshift apply` shows them.
 */
export function judgeRunTimeSchedule(
  secretId: string,
  facts: ScheduleFacts,
  group: string,
): HygieneFinding[] {
  const { expected, summary, deployed } = facts;
  if (!expected) return [];
  if (!summary || deployed === null) {
    return [
      {
        secretId,
        kind: "schedule-missing",
        severity: "high",
        message: `no schedule ${expected.name} in the schedule group ${group}: the secret will never rotate by schedule (${expected.expression})`,
        fix: `keyshift apply (or keyshift enroll ${secretId})`,
      },
    ];
  }
  const changes = deployed ? scheduleChanges(deployed, expected) : summaryChanges(summary, expected);
  if (changes.length === 0) return [];
  return [
    {
      secretId,
      kind: "schedule-drift",
      severity: "medium",
      message: `schedule ${expected.name} differs from the secret's settings: ${changes
        .map(([field, was, wanted]) => `${field}: ${was} -> ${wanted}`)
        .join("; ")}`,
      fix: "keyshift apply (puts the schedule back to the enrolled settings)",
    },
  ];
}

/**
 * Pure: the rotation schedules (`rotate-` names) in the group for no enrolled secret — left by a
 * secret removed from the enrollment, or made by hand. Low: nothing is rotated that is not enrolled
 * (BeginRotation refuses an unknown secret), but each start is a failed execution, and alarms.
 */
export function judgeOrphanSchedules(
  listing: GroupListing,
  enrolled: readonly SecretSettings[],
  group: string,
): HygieneFinding[] {
  const expected = new Set(enrolled.map((s) => scheduleNameOf(s.secretId)));
  return [...listing.keys()]
    .filter((name) => name.startsWith(SCHEDULE_NAME_PREFIX) && !expected.has(name))
    .sort()
    .map((name) => ({
      secretId: "_system",
      kind: "schedule-orphan" as const,
      severity: "low" as const,
      message: `schedule ${name} in the schedule group ${group} belongs to no enrolled secret`,
      fix: "keyshift apply --prune (deletes the rotation schedules of secrets no longer declared)",
    }));
}
