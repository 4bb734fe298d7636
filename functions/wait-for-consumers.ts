import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { stepLogging } from "../src/commons/middleware";
import { checkConsumersEventSchema, parseOrThrow } from "../src/commons/schemas";
import { clock, compose, consumers, lock, store } from "../src/commons/wiring";
import { type CheckConsumersOutput, checkConsumers } from "../src/core/rotation/check-consumers";

const deps = compose(loadConfig(), { store, lock, consumers, clock });

/** CheckConsumers: may the previous key be revoked yet? Waiting itself is the state machine's Wait state. */
export async function waitForConsumersStep(
  event: unknown,
  d: Parameters<typeof checkConsumers>[1] = deps,
): Promise<CheckConsumersOutput> {
  return checkConsumers(parseOrThrow(checkConsumersEventSchema, event, "wait-for-consumers input"), d);
}

export const handler = middy<unknown, CheckConsumersOutput>()
  .use(stepLogging("wait-for-consumers"))
  .handler((event) => waitForConsumersStep(event));
