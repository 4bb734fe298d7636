import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { beginRotationEventSchema, parseOrThrow } from "../src/commons/schemas";
import type { Deps } from "../src/core/deps";
import { DEFAULT_MANUAL_TASK_SECONDS } from "../src/core/manual/ids";
import { type BeginRotationOutput, beginRotation } from "../src/core/rotation/begin-rotation";

const config = loadConfig();
const deps = buildDeps(config);

/**
 * BeginRotation: the first state. Validates the execution input (a bad one fails here, naming the
 * field), takes the lock or adopts a stalled rotation on resume, and routes.
 */
export async function beginRotationStep(
  event: unknown,
  d: Deps = deps,
): Promise<BeginRotationOutput & { manualTaskSeconds: number }> {
  const { input, executionName } = parseOrThrow(beginRotationEventSchema, event, "execution input");
  const out = await beginRotation({ ...input, executionName, actor: `execution:${executionName}` }, d);
  // How long the waiting states of a manual account wait for a person (their TimeoutSecondsPath).
  return { ...out, manualTaskSeconds: config.KEYSHIFT_MANUAL_TASK_SECONDS ?? DEFAULT_MANUAL_TASK_SECONDS };
}

export const handler = middy<unknown, BeginRotationOutput & { manualTaskSeconds: number }>()
  .use(stepLogging("begin-rotation"))
  .handler((event) => beginRotationStep(event));
