import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { stepLogging } from "../src/commons/middleware";
import { openManualTaskEventSchema, parseOrThrow } from "../src/commons/schemas";
import {
  alerts,
  audit,
  callbacks,
  clock,
  compose,
  egressIps,
  ledger,
  lock,
  secrets,
  store,
  tasks,
} from "../src/commons/wiring";
import { exchange } from "../src/commons/wiring-exchange";
import { type ManualDeps, type OpenTaskOutput, openManualTask } from "../src/core/manual/tasks";

const deps: ManualDeps = compose(loadConfig(), {
  secrets,
  store,
  lock,
  ledger,
  exchange,
  audit,
  alerts,
  clock,
  egressIps,
  tasks,
  callbacks,
});

/**
 * OpenManualTask: invoked by `AwaitManualKey` / `AwaitManualDeletion`
 * (`arn:aws:states:::lambda:invoke.waitForTaskToken`) with the state's task token. Records the task
 * a person answers (or resumes at once when it is already done) and alerts; the execution then
 * waits, at no cost, until `keyshift keys provide` / `keys confirm-deleted` answers the token.
 */
export async function openManualTaskStep(event: unknown, d: ManualDeps = deps): Promise<OpenTaskOutput> {
  return openManualTask(parseOrThrow(openManualTaskEventSchema, event, "open-manual-task input"), d);
}

export const handler = middy<unknown, OpenTaskOutput>()
  .use(stepLogging("open-manual-task"))
  .handler((event) => openManualTaskStep(event));
