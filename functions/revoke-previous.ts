import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { parseOrThrow, rotationRefSchema } from "../src/commons/schemas";
import type { Deps } from "../src/core/deps";
import { type RevokePreviousOutput, revokePrevious } from "../src/core/revocation/revoke-previous";

const deps = buildDeps(loadConfig());

/** RevokePrevious: through the ledger; RevocationFailedError drives the state's Retry. */
export async function revokePreviousStep(event: unknown, d: Deps = deps): Promise<RevokePreviousOutput> {
  return revokePrevious(parseOrThrow(rotationRefSchema, event, "revoke-previous input"), d);
}

export const handler = middy<unknown, RevokePreviousOutput>()
  .use(stepLogging("revoke-previous"))
  .handler((event) => revokePreviousStep(event));
