import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { parseOrThrow, rotationRefSchema } from "../src/commons/schemas";
import type { Deps } from "../src/core/deps";
import { type PromoteCurrentOutput, promoteCurrent } from "../src/core/rotation/promote-current";

const deps = buildDeps(loadConfig());

/** PromoteCurrent: AWSCURRENT moves to the new version, AWSPREVIOUS follows. */
export async function promoteCurrentStep(event: unknown, d: Deps = deps): Promise<PromoteCurrentOutput> {
  return promoteCurrent(parseOrThrow(rotationRefSchema, event, "promote-current input"), d);
}

export const handler = middy<unknown, PromoteCurrentOutput>()
  .use(stepLogging("promote-current"))
  .handler((event) => promoteCurrentStep(event));
