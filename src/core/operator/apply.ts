import type { Deps } from "../deps";
import type { EnrolledSecret } from "../enrollment/model";
import { type Action, planSecret, type SecretPlan, undeclaredSchedules } from "../enrollment/plan";
import { type ScheduleDeployment, scheduleNameOf } from "../enrollment/schedule-spec";
import {
  type RotationSchedule,
  ScheduleExistsError,
  ScheduleNotFoundError,
  type ScheduleStore,
} from "../ports";
import type { ReadPolicyDeps } from "../read-policy/sync";
import { enrollSecret } from "./operator";

export type ApplyDeps = Pick<Deps, "secrets" | "store" | "consumers" | "audit" | "clock"> &
  ReadPolicyDeps & { schedules: ScheduleStore };

export interface ApplyOptions {
  deployment: ScheduleDeployment;
  /** Plan only: read what is deployed, change nothing. */
  dryRun: boolean;
  /** Also delete the rotation schedules of the group that no declared secret maps to. */
  prune: boolean;
  /** Secrets handled at once (each is a few reads and at most a few writes). */
  concurrency: number;
  onProgress?: (done: number, total: number) => void;
}

type Counts = Record<Action, number>;

export interface ApplyReport {
  dryRun: boolean;
  total: number;
  /** Secrets whose plan was carried out (or, dry, computed). */
  done: number;
  settings: Counts;
  schedules: Counts;
  /** Secrets with something to change, with the fields (unchanged ones are only counted). */
  changed: SecretPlan[];
  /** Undeclared rotation schedules: deleted with `--prune`, else only listed. */
  undeclared: string[];
  pruned: boolean;
  /** The first failure: nothing was started after it; a re-run goes on from what is deployed. */
  failed?: { secretId: string; error: string };
}

/**
 * `keyshift apply`: make the deployment what the enrollment file declares.
 * Input: the validated entries. Output: what was (or, dry, would be) changed.
 * 1. Per secret, at most `concurrency` at once: read its SETTINGS and its schedule, plan.
 * 2. Settings to create or update: `enrollSecret` (the same path as `keyshift enroll`).
 * 3. Then its schedule: create or update (a full PUT), audited.
 * 4. With `--prune`, once every declared secret is done: delete the group's other rotation schedules.
 * Idempotent, so resumable: every run starts from what is deployed, never from a journal; a secret
 * done before a crash plans as unchanged. The first failure stops new work (in-flight work ends).
 */
export async function applyEnrollment(
  secrets: EnrolledSecret[],
  actor: string,
  deps: ApplyDeps,
  options: ApplyOptions,
): Promise<ApplyReport> {
  const zero = (): Counts => ({ create: 0, update: 0, unchanged: 0 });
  const report: ApplyReport = {
    dryRun: options.dryRun,
    total: secrets.length,
    done: 0,
    settings: zero(),
    schedules: zero(),
    changed: [],
    undeclared: [],
    pruned: false,
  };
  await inPool(secrets, options.concurrency, async (secret) => {
    if (report.failed) return;
    try {
      const plan = await applySecret(secret, actor, deps, options);
      report.settings[plan.settings.action] += 1;
      report.schedules[plan.schedule.action] += 1;
      if (plan.settings.action !== "unchanged" || plan.schedule.action !== "unchanged")
        report.changed.push(plan);
      report.done += 1;
      options.onProgress?.(report.done, report.total);
    } catch (err) {
      report.failed ??= { secretId: secret.secretId, error: (err as Error).message };
    }
  });
  report.changed.sort((a, b) => a.secretId.localeCompare(b.secretId));
  if (report.failed) return report;
  const declared = new Set(secrets.map((s) => scheduleNameOf(s.secretId)));
  report.undeclared = undeclaredSchedules(await deps.schedules.listNames(), declared);
  if (options.prune && !options.dryRun) {
    await inPool(report.undeclared, options.concurrency, (name) => deleteSchedule(name, actor, deps));
    report.pruned = true;
  }
  return report;
}

async function applySecret(
  secret: EnrolledSecret,
  actor: string,
  deps: ApplyDeps,
  options: ApplyOptions,
): Promise<SecretPlan> {
  const name = scheduleNameOf(secret.secretId);
  const [settings, schedule] = await Promise.all([
    deps.store.getSettings(secret.secretId),
    deps.schedules.get(name),
  ]);
  const plan = planSecret(secret, options.deployment, { settings, schedule });
  if (options.dryRun) return plan;
  // Settings first: a schedule never starts a secret that is not enrolled (BeginRotation would refuse it).
  if (plan.settings.action !== "unchanged") await enrollSecret(plan.settings.declared, actor, deps);
  if (plan.schedule.action !== "unchanged")
    await putSchedule(secret.secretId, plan.schedule.declared, actor, deps, plan.schedule.action);
  return plan;
}

/**
 * Creates or replaces a secret's schedule, audited after the call succeeded. `expected` is what
 * the caller read: if another writer got there first (a create meets ConflictException, an
 * update ResourceNotFoundException), the other call is made, so the end state is the declared one.
 */
export async function putSchedule(
  secretId: string,
  schedule: RotationSchedule,
  actor: string,
  deps: Pick<ApplyDeps, "schedules" | "audit">,
  expected: "create" | "update",
): Promise<void> {
  let action = expected;
  try {
    await (action === "create" ? deps.schedules.create(schedule) : deps.schedules.update(schedule));
  } catch (err) {
    if (action === "create" && err instanceof ScheduleExistsError) action = "update";
    else if (action === "update" && err instanceof ScheduleNotFoundError) action = "create";
    else throw err;
    await (action === "create" ? deps.schedules.create(schedule) : deps.schedules.update(schedule));
  }
  await deps.audit.append({
    secretId,
    actor,
    action: action === "create" ? "schedule-created" : "schedule-updated",
    details: {
      name: schedule.name,
      expression: schedule.expression,
      timezone: schedule.timezone,
      enabled: schedule.enabled,
      flexibleWindowMinutes: schedule.flexibleWindowMinutes ?? null,
    },
  });
}

async function deleteSchedule(name: string, actor: string, deps: ApplyDeps): Promise<void> {
  const schedule = await deps.schedules.get(name);
  await deps.schedules.delete(name);
  const secretId = schedule && secretIdOf(schedule.target.input);
  if (secretId)
    await deps.audit.append({ secretId, actor, action: "schedule-deleted", details: { name, pruned: true } });
}

function secretIdOf(input: string): string | undefined {
  try {
    const { secretId } = JSON.parse(input) as { secretId?: unknown };
    return typeof secretId === "string" ? secretId : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function inPool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
