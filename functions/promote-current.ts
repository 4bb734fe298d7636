import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { stepLogging } from "../src/commons/middleware";
import { parseOrThrow, rotationRefSchema } from "../src/commons/schemas";
import { audit, clock, compose, ledger, lock, secrets, store } from "../src/commons/wiring";
import { type PromoteCurrentOutput, promoteCurrent } from "../src/core/rotation/promote-current";

const deps = compose(loadConfig(), { secrets, store, lock, ledger, audit, clock });

/** PromoteCurrent: AWSCURRENT moves to the new version, AWSPREVIOUS follows. */
export async function promoteCurrentStep(
  event: unknown,
  d: Parameters<typeof promoteCurrent>[1] = deps,
): Promise<PromoteCurrentOutput> {
  return promoteCurrent(parseOrThrow(rotationRefSchema, event, "promote-current input"), d);
}

export const handler = middy<unknown, PromoteCurrentOutput>()
  .use(stepLogging("promote-current"))
  .handler((event) => promoteCurrentStep(event));
