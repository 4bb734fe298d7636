import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { beginRotationEventSchema, parseOrThrow } from "../src/commons/schemas";
import type { Deps } from "../src/core/deps";
import { type BeginRotationOutput, beginRotation } from "../src/core/rotation/begin-rotation";

const deps = buildDeps(loadConfig());

/**
 * BeginRotation: the first state. Validates the execution input (a bad one fails here, naming the
 * field), takes the lock or adopts a stalled rotation on resume, and routes.
 */
export async function beginRotationStep(event: unknown, d: Deps = deps): Promise<BeginRotationOutput> {
  const { input, executionName } = parseOrThrow(beginRotationEventSchema, event, "execution input");
  return beginRotation({ ...input, executionName, actor: `execution:${executionName}` }, d);
}

export const handler = middy<unknown, BeginRotationOutput>()
  .use(stepLogging("begin-rotation"))
  .handler((event) => beginRotationStep(event));
