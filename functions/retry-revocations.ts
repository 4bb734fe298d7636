import middy from "@middy/core";
import type { Context, ScheduledEvent } from "aws-lambda";
import { loadConfig } from "../src/commons/config";
import type { AppDeps } from "../src/commons/deps";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { remindOverdueTasks } from "../src/core/manual/reminders";
import { retryRevocations, type SweepOutput } from "../src/core/revocation/retry";

const deps = buildDeps(loadConfig());

/**
 * Due entries listed per run (earliest first); what the time budget leaves is still due and the next
 * tick takes it first: 5,000 due entries took three runs on the local stack (2,000 in 45.4 s, 2,000
 * in 39.5 s, the rest in 15.8 s; `npm run bench -- --only fleet-jobs`, `fleet.sweeperDue5000Seconds`).
 */
const BATCH = 2000;

/** Secrets worked at once (each secret's entries one after the other: one writer per audit chain). */
const CONCURRENCY = 8;

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
  const swept = await retryRevocations({ limit: BATCH, concurrency: CONCURRENCY, outOfTime }, d);
  const { reminded } = await remindOverdueTasks(d);
  return { ...swept, reminded: reminded.length };
}

export const handler = middy<unknown, SweepOutput & { reminded: number }>()
  .use(stepLogging("retry-revocations"))
  .handler((event, context) => retryRevocationsStep(event, deps, context));
