import { SchedulerClient } from "@aws-sdk/client-scheduler";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { SchedulerScheduleStore } from "../src/adapters/scheduler";
import { scheduleSettingsOf } from "../src/cli/schedules";
import { loadConfig } from "../src/commons/config";
import { type AppDeps, buildDeps } from "../src/commons/deps";
import { logger } from "../src/commons/logger";
import { stepLogging } from "../src/commons/middleware";
import { type HygieneCarry, type HygieneReport, hygieneAudit } from "../src/core/hygiene/audit";
import type { ScheduleCheck } from "../src/core/hygiene/schedule-findings";
import { readPolicyDriftOf } from "../src/core/read-policy/sync";

const config = loadConfig();
// The run-time schedules are part of the audit: without their group the function refuses to start.
const { group, deployment } = scheduleSettingsOf(process.env, "the hygiene audit");
const scheduler = new SchedulerClient({
  region: config.AWS_REGION,
  endpoint: config.KEYSHIFT_ENDPOINT_SCHEDULER,
});
const deps: AuditDeps = {
  ...buildDeps(config),
  scheduleCheck: { schedules: new SchedulerScheduleStore(scheduler, group), deployment, group },
};

/** The stage's dependencies and, on Lambda, the schedule group the audit checks. */
type AuditDeps = AppDeps & { scheduleCheck?: ScheduleCheck };

/** Secrets gathered at once: a few reads each, one exchange listing per account. */
const CONCURRENCY = 16;

/** Leave this much of the Lambda timeout: the secrets in flight finish and the report is returned. */
const SAFETY_MS = 30_000;

/** What the hygiene state machine hands a continued run (statemachines/hygiene.asl.json). */
interface Continuation {
  cursor?: string | null;
  carried?: HygieneCarry | null;
}

/** The state data the state machine carries between runs: counts and the first findings, never all of them. */
export type HygieneStepOutput = Omit<HygieneReport, "findings" | "cursor" | "carried"> & {
  done: boolean;
  cursor: string | null;
  carried: HygieneCarry | null;
  findingsThisRun: number;
};

/**
 * The weekly credential hygiene audit (statemachines/hygiene.asl.json, weekly): every finding with
 * its severity and fix in the log, one alert when any is high or medium. A run that nears its
 * timeout stops between secrets and answers a cursor; the state machine starts the next run from it
 * (`done: false`). `keyshift hygiene` runs the same audit.
 */
export async function hygieneAuditStep(
  event: Continuation | unknown,
  d: AuditDeps = deps,
  context?: Pick<Context, "getRemainingTimeInMillis">,
): Promise<HygieneStepOutput> {
  const { cursor, carried, inRuns } = continuationOf(event);
  // Only the state machine continues a run that stopped early; invoked by a bare schedule, the
  // audit runs to its end (or fails loudly on its timeout: the errors alarm), never stops quietly
  // with part of the fleet unaudited and no alert.
  const budgeted = inRuns && context;
  const report = await hygieneAudit(
    {
      alert: true,
      concurrency: CONCURRENCY,
      ...(cursor ? { after: cursor, ...(carried ? { carried } : {}) } : {}),
      ...(budgeted ? { outOfTime: () => context.getRemainingTimeInMillis() < SAFETY_MS } : {}),
    },
    { ...d, policyDrift: (secretId, consumers) => readPolicyDriftOf(d, secretId, consumers) },
  );
  const { findings, cursor: next, carried: carry, ...rest } = report;
  // Every finding in the log; the state data keeps counts and the first ones (it is capped at 256 KiB).
  for (const f of findings) logger.info("hygiene finding", { ...f });
  return {
    ...rest,
    done: next === undefined,
    cursor: next ?? null,
    carried: carry ?? null,
    findingsThisRun: findings.length,
  };
}

/** The state machine's input always names `cursor` (null at the start); a schedule's event never does. */
function continuationOf(event: unknown): { cursor?: string; carried?: HygieneCarry; inRuns: boolean } {
  if (typeof event !== "object" || event === null || !("cursor" in event)) return { inRuns: false };
  const { cursor, carried } = event as Continuation;
  return typeof cursor === "string"
    ? { cursor, ...(carried ? { carried } : {}), inRuns: true }
    : { inRuns: true };
}

export const handler = middy<unknown, HygieneStepOutput>()
  .use(stepLogging("hygiene-audit"))
  .handler((event, context) => hygieneAuditStep(event, deps, context));
