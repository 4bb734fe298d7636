import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { checkConsumersEventSchema, parseOrThrow } from "../src/commons/schemas";
import type { Deps } from "../src/core/deps";
import { type CheckConsumersOutput, checkConsumers } from "../src/core/rotation/check-consumers";

const deps = buildDeps(loadConfig());

/** CheckConsumers: may the previous key be revoked yet? Waiting itself is the state machine's Wait state. */
export async function waitForConsumersStep(event: unknown, d: Deps = deps): Promise<CheckConsumersOutput> {
  return checkConsumers(parseOrThrow(checkConsumersEventSchema, event, "wait-for-consumers input"), d);
}

export const handler = middy<unknown, CheckConsumersOutput>()
  .use(stepLogging("wait-for-consumers"))
  .handler((event) => waitForConsumersStep(event));
