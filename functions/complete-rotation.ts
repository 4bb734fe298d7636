import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { completeRotationEventSchema, parseOrThrow } from "../src/commons/schemas";
import type { Deps } from "../src/core/deps";
import { type CompleteRotationOutput, completeRotation } from "../src/core/rotation/complete-rotation";

const deps = buildDeps(loadConfig());

/** CompleteRotation: record the outcome, release the lock (and alert when revocation was deferred). */
export async function completeRotationStep(event: unknown, d: Deps = deps): Promise<CompleteRotationOutput> {
  return completeRotation(parseOrThrow(completeRotationEventSchema, event, "complete-rotation input"), d);
}

export const handler = middy<unknown, CompleteRotationOutput>()
  .use(stepLogging("complete-rotation"))
  .handler((event) => completeRotationStep(event));
