import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { stepLogging } from "../src/commons/middleware";
import { parseOrThrow, proveDeletedEventSchema } from "../src/commons/schemas";
import { compose, ledger, secrets } from "../src/commons/wiring";
import { exchange } from "../src/commons/wiring-exchange";
import type { Deps } from "../src/core/deps";
import { ManualTaskRefusedError } from "../src/core/manual/errors";
import { type ProveDeletedAnswer, proveDeleted } from "../src/core/manual/prove";

const deps = compose(loadConfig(), { ledger, secrets, exchange });

/**
 * ProveDeleted: invoked by the operator API only (its role's one lambda:InvokeFunction grant), for
 * `keys confirm-deleted`. This function's role is one of keyshift's readers, which the operator
 * API's is not: it reads the old key and asks the exchange once whether it is gone. A refusal is
 * an answer (`{refused}`); any other failure is the function's error, which the caller reports as
 * "retry", never as a proof. It writes nothing.
 */
export async function proveDeletedStep(
  event: unknown,
  d: Pick<Deps, "ledger" | "secrets" | "exchange"> = deps,
): Promise<ProveDeletedAnswer> {
  const input = parseOrThrow(proveDeletedEventSchema, event, "prove-deleted input");
  try {
    return { verified: (await proveDeleted(input, d)).verified };
  } catch (err) {
    if (err instanceof ManualTaskRefusedError) return { refused: err.message };
    throw err;
  }
}

export const handler = middy<unknown, ProveDeletedAnswer>()
  .use(stepLogging("prove-deleted"))
  .handler((event) => proveDeletedStep(event));
