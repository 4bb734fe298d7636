import middy from "@middy/core";
import type { Context, ScheduledEvent } from "aws-lambda";
import { loadConfig } from "../src/commons/config";
import type { AppDeps } from "../src/commons/deps";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { remindOverdueTasks } from "../src/core/manual/reminders";
import { retryRevocations, type SweepOutput } from "../src/core/revocation/retry";

const deps = buildDeps(loadConfig());

/** Entries handled per run; the rest wait for the next tick (a run stays well inside its timeout). */
const BATCH = 100;

/** Leave this much of the Lambda timeout for the last exchange call (its own timeout) to finish. */
const SAFETY_MS = 30_000;

/**
 * The scheduled sweeper (EventBridge rate): retries due revocations from the ledger, then reminds
 * whoever must answer a manual task nobody has answered (escalating: core/manual/reminders.ts).
 */
export async function retryRevocationsStep(
  _event: ScheduledEvent | unknown,
  d: AppDeps = deps,
  context?: Pick<Context, "getRemainingTimeInMillis">,
): Promise<SweepOutput & { reminded: number }> {
  const outOfTime = context ? () => context.getRemainingTimeInMillis() < SAFETY_MS : undefined;
  const swept = await retryRevocations({ limit: BATCH, outOfTime }, d);
  const { reminded } = await remindOverdueTasks(d);
  return { ...swept, reminded: reminded.length };
}

export const handler = middy<unknown, SweepOutput & { reminded: number }>()
  .use(stepLogging("retry-revocations"))
  .handler((event, context) => retryRevocationsStep(event, deps, context));
