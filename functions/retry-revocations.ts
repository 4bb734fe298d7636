import middy from "@middy/core";
import type { ScheduledEvent } from "aws-lambda";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import type { Deps } from "../src/core/use-cases/deps";
import { retryRevocations, type SweepOutput } from "../src/core/use-cases/retry-revocations";

const deps = buildDeps(loadConfig());

/** Entries handled per run; the rest wait for the next tick (a run stays well inside its timeout). */
const BATCH = 100;

/** The scheduled sweeper (EventBridge rate): retries due revocations from the ledger. */
export async function retryRevocationsStep(
  _event: ScheduledEvent | unknown,
  d: Deps = deps,
): Promise<SweepOutput> {
  return retryRevocations({ limit: BATCH }, d);
}

export const handler = middy<unknown, SweepOutput>()
  .use(stepLogging("retry-revocations"))
  .handler((event) => retryRevocationsStep(event));
