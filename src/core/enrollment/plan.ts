import type { SecretSettings } from "../model";
import type { RotationSchedule } from "../ports/schedules";
import type { EnrolledSecret } from "./model";
import {
  type FieldChange,
  rotationScheduleFor,
  SCHEDULE_NAME_PREFIX,
  type ScheduleDeployment,
  scheduleChanges,
} from "./schedule-spec";

/**
 * What `keyshift apply` must do to make the deployment what `rotation.config.yml` declares: per
 * secret, its settings (the SETTINGS record `enroll` writes) and its Scheduler schedule; with
 * `--prune`, the rotation schedules of secrets no longer declared.
 */

export type Action = "create" | "update" | "unchanged";

/** The settings `enroll` stores for a declared entry (the consumer defaults are `register-consumer`'s). */
export type DeclaredSettings = Omit<SecretSettings, "enrolledAt">;

export interface SecretPlan {
  secretId: string;
  settings: { action: Action; changes: FieldChange[]; declared: DeclaredSettings };
  schedule: { action: Action; changes: FieldChange[]; declared: RotationSchedule };
}

/** The fields of SETTINGS that come from the enrollment file (what a re-enrollment rewrites). */
const DECLARED_SETTING_KEYS: (keyof DeclaredSettings)[] = [
  "exchangeAccount",
  "schedule",
  "scheduleEnabled",
  "scheduleTimezone",
  "scheduleFlexibleWindowMinutes",
  "minOverlapSeconds",
  "deadlineSeconds",
  "pollIntervalSeconds",
  "maxPollIntervalSeconds",
  "livenessMultiplier",
  "removeAfterSeconds",
  "idleHeartbeatSeconds",
  "activeHeartbeatSeconds",
  "livenessGraceSeconds",
];

/**
 * A declared entry as SETTINGS: the schedule travels with it, whole, so the hygiene audit can tell
 * an overdue rotation and check the run-time schedule against it (core/hygiene/schedule-findings.ts).
 */
export function declaredSettings(secret: EnrolledSecret): DeclaredSettings {
  const { consumer: _c, enabled, schedule, timezone, flexibleWindowMinutes, ...settings } = secret;
  return {
    ...settings,
    schedule,
    scheduleEnabled: enabled,
    ...(timezone === undefined ? {} : { scheduleTimezone: timezone }),
    ...(flexibleWindowMinutes === undefined ? {} : { scheduleFlexibleWindowMinutes: flexibleWindowMinutes }),
  };
}

const text = (v: unknown) => (v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));

/** Every declared field whose stored value differs (a field set before and dropped since counts). */
export function settingsChanges(deployed: SecretSettings, declared: DeclaredSettings): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const key of DECLARED_SETTING_KEYS) {
    const before = text(deployed[key]);
    const after = text(declared[key]);
    if (before !== after) changes.push([key, before, after]);
  }
  return changes;
}

/** One secret's plan from what is deployed now (undefined: absent). */
export function planSecret(
  secret: EnrolledSecret,
  deployment: ScheduleDeployment,
  deployed: { settings: SecretSettings | undefined; schedule: RotationSchedule | undefined },
): SecretPlan {
  const settings = declaredSettings(secret);
  const schedule = rotationScheduleFor(secret, deployment);
  const settingsDiff = deployed.settings ? settingsChanges(deployed.settings, settings) : [];
  const scheduleDiff = deployed.schedule ? scheduleChanges(deployed.schedule, schedule) : [];
  const action = (present: boolean, diff: FieldChange[]): Action =>
    !present ? "create" : diff.length > 0 ? "update" : "unchanged";
  return {
    secretId: secret.secretId,
    settings: {
      action: action(deployed.settings !== undefined, settingsDiff),
      changes: settingsDiff,
      declared: settings,
    },
    schedule: {
      action: action(deployed.schedule !== undefined, scheduleDiff),
      changes: scheduleDiff,
      declared: schedule,
    },
  };
}

/** The rotation schedules in the group that no declared secret maps to (`--prune` deletes them). */
export function undeclaredSchedules(deployedNames: string[], declaredNames: Set<string>): string[] {
  return deployedNames
    .filter((name) => name.startsWith(SCHEDULE_NAME_PREFIX) && !declaredNames.has(name))
    .sort();
}

/** One line per secret that changes, with each changed field: the readable diff. */
export function describePlan(plan: SecretPlan): string[] {
  const lines: string[] = [];
  const part = (what: string, p: { action: Action; changes: FieldChange[] }) => {
    if (p.action === "unchanged") return;
    lines.push(`  ${what}: ${p.action}`);
    for (const [field, before, after] of p.changes) lines.push(`    ${field}: ${before} -> ${after}`);
  };
  if (plan.settings.action === "unchanged" && plan.schedule.action === "unchanged") return lines;
  lines.push(`${plan.secretId} (schedule ${plan.schedule.declared.name})`);
  part("settings", plan.settings);
  part("schedule", plan.schedule);
  return lines;
}
