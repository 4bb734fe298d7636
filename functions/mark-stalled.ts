import middy from "@middy/core";
import { loadConfig } from "../src/commons/config";
import { stepLogging } from "../src/commons/middleware";
import { markStalledEventSchema, parseOrThrow } from "../src/commons/schemas";
import { alerts, audit, clock, compose, lock, store } from "../src/commons/wiring";
import { markStalled } from "../src/core/rotation/mark-stalled";

const deps = compose(loadConfig(), { store, lock, audit, alerts, clock });

type Output = Awaited<ReturnType<typeof markStalled>>;

/** MarkStalled: deadline passed — alert, keep the lock, revoke nothing. */
export async function markStalledStep(
  event: unknown,
  d: Parameters<typeof markStalled>[1] = deps,
): Promise<Output> {
  return markStalled(parseOrThrow(markStalledEventSchema, event, "mark-stalled input"), d);
}

export const handler = middy<unknown, Output>()
  .use(stepLogging("mark-stalled"))
  .handler((event) => markStalledStep(event));
