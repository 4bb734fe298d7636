import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { stepLogging } from "../src/commons/middleware";
import { completeRotationEventSchema, parseOrThrow } from "../src/commons/schemas";
import { alerts, audit, clock, compose, ledger, lock, store } from "../src/commons/wiring";
import { type CompleteRotationOutput, completeRotation } from "../src/core/rotation/complete-rotation";

const deps = compose(loadConfig(), { store, lock, ledger, audit, alerts, clock });

/** CompleteRotation: record the outcome, release the lock (and alert when revocation was deferred). */
export async function completeRotationStep(
  event: unknown,
  d: Parameters<typeof completeRotation>[1] = deps,
): Promise<CompleteRotationOutput> {
  return completeRotation(parseOrThrow(completeRotationEventSchema, event, "complete-rotation input"), d);
}

export const handler = middy<unknown, CompleteRotationOutput>()
  .use(stepLogging("complete-rotation"))
  .handler((event) => completeRotationStep(event));
