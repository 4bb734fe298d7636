import { maskSecrets, sanitizeErrorMessage } from "./scrub.js";

/** The first read of the secret failed: there is no value to serve yet. */
export class SecretUnavailableError extends Error {
  override name = "SecretUnavailableError";
}

/**
 * The heartbeat endpoint answered with an error status (or a redirect); `message` carries the
 * server's own words, so it is shown only through `describeError`, which masks them.
 */
export class HeartbeatRejectedError extends Error {
  override name = "HeartbeatRejectedError";
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
  }
}

/** A read or a heartbeat did not answer within `requestTimeoutMs`; it was abandoned. */
export class RequestTimeoutError extends Error {
  override name = "RequestTimeoutError";
}

/** `stop()` was called: work in flight was abandoned. */
export class ConsumerStoppedError extends Error {
  override name = "ConsumerStoppedError";
}

/** An error as `status()` reports it: what failed, when, and a message that carries no secret. */
export interface ConsumerError {
  at: string;
  operation: "heartbeat" | "refresh";
  name: string;
  message: string;
  httpStatus?: number;
}

/** Longest text of an error looked at: a heartbeat answer is read up to 16 KiB, nothing longer. */
const MAX_ERROR_TEXT = 16 * 1024;

/**
 * Reduces an error to what may be shown anywhere. First every value this process held (`secrets`:
 * the key and the one before it, whole, JSON-escaped, or any 16-character piece of either) is
 * masked, on the whole text, so no cut can leave the start of one; then the project's scrubber masks
 * whatever looks secret and bounds the length.
 */
export function describeError(
  err: unknown,
  operation: ConsumerError["operation"],
  at: number,
  secrets: readonly string[],
): ConsumerError {
  const name = err instanceof Error ? err.name : "Error";
  const raw = (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_TEXT);
  return {
    at: new Date(at).toISOString(),
    operation,
    name,
    message: sanitizeErrorMessage(maskSecrets(raw, secrets), 300),
    ...(err instanceof HeartbeatRejectedError ? { httpStatus: err.httpStatus } : {}),
  };
}

/**
 * What to mask for a held value: the value, and each string inside it (a JSON key's `secret`,
 * `passphrase`…) long enough to be a credential, since a server may echo one alone.
 */
export function secretsOf(value: string): string[] {
  const found = [value];
  const visit = (v: unknown): void => {
    if (typeof v === "string") {
      if (v.length >= 8) found.push(v);
    } else if (v && typeof v === "object") for (const x of Object.values(v)) visit(x);
  };
  try {
    visit(JSON.parse(value));
  } catch {
    // not JSON: the value is the secret
  }
  return found;
}
