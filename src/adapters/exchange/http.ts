import { AsyncLocalStorage } from "node:async_hooks";
import {
  ExchangePermanentError,
  ExchangeRetryableError,
  maskSecrets,
  sanitizeErrorMessage,
} from "../../core/errors";

/**
 * HTTP plumbing shared by every exchange adapter: bounded bodies, timeouts, network-error
 * classification and secret scrubbing. Nothing here knows an exchange's envelope.
 */

/** No key-management answer is anywhere near this; a bigger body is a misconfigured endpoint, not data. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

export class ResponseTooLargeError extends ExchangePermanentError {}

/**
 * Reads at most `maxBytes` of the body, then cancels the stream: a 24 MiB answer costs 1 MiB of
 * memory and a clear error, not an out-of-memory Lambda.
 */
export async function readBoundedText(
  response: Response,
  where: string,
  maxBytes: number = MAX_RESPONSE_BYTES,
): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new ResponseTooLargeError(
      `${where}: response of ${declared} bytes exceeds the ${maxBytes}-byte bound`,
    );
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new ResponseTooLargeError(`${where}: response exceeds the ${maxBytes}-byte bound`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Joins an endpoint that may carry a base path (`https://host/exchange/`) with an API path. */
export function resolveUrl(endpoint: string, path: string): URL {
  const base = new URL(endpoint);
  const prefix = base.pathname.replace(/\/+$/, "");
  return new URL(`${prefix}${path.startsWith("/") ? path : `/${path}`}`, base);
}

export function isTimeout(err: unknown): boolean {
  return err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
}

export function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause =
    err.cause instanceof Error ? ` (${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message})` : "";
  return `${err.message}${cause}`;
}

/**
 * Replaces every occurrence of each secret, and every 16-character piece of one (an echo cut
 * short), with `***`: for anything the exchange sent back, before it reaches a message.
 */
export function scrub(text: string, secrets: readonly string[]): string {
  return maskSecrets(text, secrets);
}

/** A field name from an answer as it may be shown: an identifier, not an echo (`?` otherwise). */
const FIELD_NAME = /^(?:\d{1,6}|[A-Za-z_][A-Za-z_]{0,39})$/;

/** Extra detail kept on the domain errors without changing their classes (name stays matchable). */
export interface ExchangeErrorDetail {
  /** The exchange's own error code (`KEY_LIMIT_EXCEEDED`, `10006`, …) when it sent one. */
  exchangeCode?: string;
  /** Seconds from a 429's `retry-after`. */
  retryAfterSeconds?: number;
}

/**
 * The field paths of a schema's issues (`result.0.client_id`), never values. The names come from
 * the exchange's answer too (a record's keys): one that is not a plain identifier, or that holds
 * a secret, shows as `?`.
 */
export function fieldPaths(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey> }>,
  secrets: readonly string[],
): string {
  const name = (part: PropertyKey) => {
    const text = String(part);
    return FIELD_NAME.test(text) && scrub(text, secrets) === text ? text : "?";
  };
  const paths = issues.map((issue) => issue.path.map(name).join(".") || "(root)");
  return [...new Set(paths)].slice(0, 10).join(", ");
}

export function parseJsonOrUndefined(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One HTTP exchange of bytes: fetch with a timeout, read a bounded body. Network errors and
 * timeouts become `ExchangeRetryableError` (a timeout on a mutating call is ambiguous: the caller
 * confirms by listing); the message names the call and never carries a secret.
 */
/**
 * What must happen before each request of the call in progress: `BudgetedExchange` runs every
 * port call of an account inside it, so each request takes a slot of that account's shared
 * request budget. Outside one (tests of an adapter alone), requests go straight out.
 */
export const requestGate = new AsyncLocalStorage<() => Promise<void>>();

export async function fetchBounded(
  url: URL,
  init: RequestInit,
  opts: {
    where: string;
    timeoutMs: number;
    secrets: readonly string[];
    fetchImpl?: typeof fetch | undefined;
  },
): Promise<{ status: number; headers: Headers; text: string }> {
  // Before the try: a spent budget is its own retryable error, not a network error.
  await requestGate.getStore()?.();
  try {
    const response = await (opts.fetchImpl ?? fetch)(url, {
      ...init,
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    const text = await readBoundedText(response, opts.where);
    return { status: response.status, headers: response.headers, text };
  } catch (err) {
    if (err instanceof ResponseTooLargeError) throw err;
    if (isTimeout(err))
      throw new ExchangeRetryableError(`${opts.where}: no answer within ${opts.timeoutMs} ms`);
    const reason = sanitizeErrorMessage(scrub(describeNetworkError(err), opts.secrets), 200);
    throw new ExchangeRetryableError(`${opts.where}: network error: ${reason}`, undefined, { cause: err });
  }
}

/**
 * Runs `attempt` until it succeeds, a permanent error is thrown, or `budgetMs` is spent: a slow
 * or flaky check (verifyKey right after creation) is retried instead of aborting a rotation on one
 * answer. Waits `delayMs`, doubling, between attempts.
 */
export async function withinBudget<T>(
  attempt: () => Promise<T>,
  opts: { budgetMs: number; delayMs?: number; now?: () => number; sleep?: (ms: number) => Promise<void> },
): Promise<T> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + opts.budgetMs;
  let delay = opts.delayMs ?? 250;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof ExchangeRetryableError) || now() + delay >= deadline) throw err;
      await sleep(delay);
      delay *= 2;
    }
  }
}

/**
 * A key the exchange refuses as unknown right after it was created: it may not have propagated
 * yet, so it is retried within the budget (`withinVerifyBudget`), and once the budget is spent the
 * exchange's own permanent answer (`final`) is what the caller sees.
 */
export class KeyNotYetValidError extends ExchangeRetryableError {
  constructor(readonly final: Error) {
    super(final.message);
  }
}

/** `withinBudget` for a new key's checks: a `KeyNotYetValidError` left at the end is reported as the exchange's answer. */
export async function withinVerifyBudget<T>(
  attempt: () => Promise<T>,
  opts: { budgetMs: number; now?: () => number },
): Promise<T> {
  try {
    return await withinBudget(attempt, opts);
  } catch (err) {
    throw err instanceof KeyNotYetValidError ? err.final : err;
  }
}
