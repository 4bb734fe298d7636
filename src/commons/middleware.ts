import type { MiddlewareObj } from "@middy/core";
import { sanitizeErrorMessage } from "../core/errors";
import { logger } from "./logger";

const KEYS = ["step", "secretId", "rotationId"];

function pick(event: unknown, key: string): string | undefined {
  if (event && typeof event === "object") {
    const direct = (event as Record<string, unknown>)[key];
    if (typeof direct === "string") return direct;
    const input = (event as Record<string, unknown>).input;
    if (input && typeof input === "object") {
      const nested = (input as Record<string, unknown>)[key];
      if (typeof nested === "string") return nested;
    }
  }
  return undefined;
}

/**
 * Puts `step`, `secretId` and `rotationId` on every log line of a workflow step and logs its
 * outcome. Errors are logged by name and sanitized message, then rethrown unchanged: their `name`
 * is what the state machine's Retry/Catch match on.
 */
export function stepLogging(step: string): MiddlewareObj<unknown, unknown> {
  return {
    before: (request) => {
      // Request id, function name and cold start on every line, as Powertools' own middleware does.
      logger.addContext(request.context);
      logger.removeKeys(KEYS);
      logger.appendKeys({
        step,
        secretId: pick(request.event, "secretId"),
        rotationId: pick(request.event, "rotationId"),
      });
    },
    after: () => {
      logger.info("step succeeded");
    },
    onError: (request) => {
      const error = request.error;
      logger.error("step failed", { errorName: error?.name, error: sanitizeErrorMessage(error) });
    },
  };
}
