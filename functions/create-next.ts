import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { parseOrThrow, rotationRefSchema } from "../src/commons/schemas";
import type { Deps } from "../src/core/deps";
import { type CreateNextOutput, createNext } from "../src/core/rotation/create-next";

const deps = buildDeps(loadConfig());

/** CreateNext: a new exchange key stored as AWSPENDING (see the use case for the steps). */
export async function createNextStep(event: unknown, d: Deps = deps): Promise<CreateNextOutput> {
  return createNext(parseOrThrow(rotationRefSchema, event, "create-next input"), d);
}

export const handler = middy<unknown, CreateNextOutput>()
  .use(stepLogging("create-next"))
  .handler((event) => createNextStep(event));
