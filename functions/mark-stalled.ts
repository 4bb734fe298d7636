import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { stepLogging } from "../src/commons/middleware";
import { markStalledEventSchema, parseOrThrow } from "../src/commons/schemas";
import type { Deps } from "../src/core/deps";
import { markStalled } from "../src/core/rotation/mark-stalled";

const deps = buildDeps(loadConfig());

type Output = Awaited<ReturnType<typeof markStalled>>;

/** MarkStalled: deadline passed — alert, keep the lock, revoke nothing. */
export async function markStalledStep(event: unknown, d: Deps = deps): Promise<Output> {
  return markStalled(parseOrThrow(markStalledEventSchema, event, "mark-stalled input"), d);
}

export const handler = middy<unknown, Output>()
  .use(stepLogging("mark-stalled"))
  .handler((event) => markStalledStep(event));
