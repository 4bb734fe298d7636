import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { abortRotationEventSchema, parseOrThrow } from "../src/commons/schemas";
import type { Deps } from "../src/core/deps";
import { type AbortRotationOutput, abortRotation } from "../src/core/rotation/abort-rotation";

const deps = buildDeps(loadConfig());

/** AbortRotation: clean undo of a rotation that failed before promotion. */
export async function abortRotationStep(event: unknown, d: Deps = deps): Promise<AbortRotationOutput> {
  return abortRotation(parseOrThrow(abortRotationEventSchema, event, "abort-rotation input"), d);
}

export const handler = middy<unknown, AbortRotationOutput>()
  .use(stepLogging("abort-rotation"))
  .handler((event) => abortRotationStep(event));
