import { sanitizeErrorMessage } from "./scrub.js";

/** The first read of the secret failed: there is no value to serve yet. */
export class SecretUnavailableError extends Error {
  override name = "SecretUnavailableError";
}

/** The heartbeat endpoint answered with an error status; `message` is the server's (sanitized). */
export class HeartbeatRejectedError extends Error {
  override name = "HeartbeatRejectedError";
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

/** An error as `status()` reports it: what failed, when, and a message that carries no secret. */
export interface ConsumerError {
  at: string;
  operation: "heartbeat" | "refresh";
  name: string;
  message: string;
  httpStatus?: number;
}

/**
 * Reduces an error to what may be shown anywhere. The message goes through the project's scrubber
 * and, belt and braces, loses any occurrence of the value this process holds.
 */
export function describeError(
  err: unknown,
  operation: ConsumerError["operation"],
  at: number,
  held: string | undefined,
): ConsumerError {
  const name = err instanceof Error ? err.name : "Error";
  let message = sanitizeErrorMessage(err instanceof Error ? err.message : err, 300);
  if (held && held.length >= 4) message = message.split(held).join("***");
  return {
    at: new Date(at).toISOString(),
    operation,
    name,
    message,
    ...(err instanceof HeartbeatRejectedError ? { httpStatus: err.httpStatus } : {}),
  };
}
