import type * as z from "zod/mini";
import {
  ExchangePermanentError,
  ExchangeRetryableError,
  safeExchangeCode,
  sanitizeErrorMessage,
} from "../../../core/errors";
import {
  type ExchangeErrorDetail,
  fetchBounded,
  fieldPaths,
  parseJsonOrUndefined,
  resolveUrl,
  scrub,
} from "../http";
import { BINANCE_API_KEY_HEADER, signedParameters, withSignature } from "./signing";
import { ERROR_CODES, errorSchema } from "./wire";

/** Who signs a call: the master key for management, the key itself for `verifyKey`. */
export interface BinanceSigner {
  endpoint: string;
  apiKey: string;
  secret: string;
  recvWindowMs: number;
}

export interface CallContext {
  operation: string;
  account: string;
  email: string;
  /** Every secret involved in the call, scrubbed from anything Binance echoes back. */
  secrets: string[];
}

/** Binance's own refusal of the operation (a code that is not auth, rate limit or outage). */
export interface Refusal {
  ok: false;
  code: number;
  message: string;
  status: number;
}

export type Answer = { ok: true; result: unknown } | Refusal;

export type Method = "GET" | "POST" | "DELETE";
export type Params = Record<string, string | number | boolean | undefined>;

export function where(ctx: CallContext): string {
  return `binance ${ctx.operation} on account ${ctx.account} (sub-account ${ctx.email})`;
}

/**
 * One signed request per call: GET and DELETE parameters in the query string, POST parameters in
 * an `application/x-www-form-urlencoded` body (the reference's curl examples), each signed exactly
 * as sent.
 *
 * Classification (rest-api.md, "HTTP Return Codes"): 429 (rate limit) and 418 (IP auto-banned
 * after 429s) are retryable after `Retry-After`; 5xx is retryable and its outcome UNKNOWN (a
 * mutating call is confirmed by listing); a `{code, msg}` body with a rate-limit or outage code
 * is retryable, with an auth, clock or signature code permanent with a hint, with any other code
 * a `Refusal` for the operation to judge. A body without Binance's shape (a WAF's 403, a proxy's
 * 404 page, a login page on a 200) is never a success.
 */
export class BinanceClient {
  constructor(
    private readonly opts: { timeoutMs: number; now: () => number; fetchImpl?: typeof fetch | undefined },
  ) {}

  async call(ctx: CallContext, signer: BinanceSigner, method: Method, path: string, params: Params = {}) {
    const url = resolveUrl(signer.endpoint, path);
    const signed = withSignature(
      signer.secret,
      signedParameters(params, { nowMs: this.opts.now(), recvWindowMs: signer.recvWindowMs }),
    );
    const headers: Record<string, string> = { [BINANCE_API_KEY_HEADER]: signer.apiKey };
    if (method === "POST") headers["content-type"] = "application/x-www-form-urlencoded";
    else url.search = signed;
    const response = await fetchBounded(
      url,
      { method, headers, ...(method === "POST" ? { body: signed } : {}) },
      {
        where: where(ctx),
        timeoutMs: this.opts.timeoutMs,
        secrets: ctx.secrets,
        fetchImpl: this.opts.fetchImpl,
      },
    );
    return this.classify(ctx, response);
  }

  private classify(ctx: CallContext, response: { status: number; headers: Headers; text: string }): Answer {
    const { status, headers } = response;
    const at = where(ctx);
    const json = parseJsonOrUndefined(response.text);
    const error = errorSchema.safeParse(json);
    const isError = error.success && error.data.code < 0;
    if (status === 429 || status === 418) {
      const wait = Number(headers.get("retry-after"));
      const detail: ExchangeErrorDetail =
        Number.isFinite(wait) && wait > 0 ? { retryAfterSeconds: wait } : {};
      if (isError) detail.exchangeCode = safeExchangeCode(error.data.code, ctx.secrets);
      const why = status === 418 ? "IP auto-banned after repeated 429s" : "rate limit";
      throw Object.assign(
        new ExchangeRetryableError(`${at}: HTTP ${status} (${why}); retry later`, status),
        detail,
      );
    }
    if (status >= 500) {
      throw new ExchangeRetryableError(
        `${at}: HTTP ${status} from Binance (or its edge); the call's outcome is unknown`,
        status,
      );
    }
    if (!isError) {
      if (status >= 200 && status < 300 && json !== undefined && typeof json === "object" && json !== null) {
        return { ok: true, result: json };
      }
      if (status === 403) {
        throw new ExchangePermanentError(
          `${at}: HTTP 403 without Binance's {code, msg}: a WAF rule refused the request (security block or rate limit)`,
          status,
        );
      }
      if (status === 404) {
        throw new ExchangePermanentError(
          `${at}: HTTP 404 without Binance's {code, msg}: a proxy or a wrong endpoint answered, not Binance; nothing is counted as done`,
          status,
        );
      }
      throw new ExchangePermanentError(
        `${at}: HTTP ${status} without a Binance answer (JSON object or {code, msg}); not counted as an answer`,
        status,
      );
    }
    const { code, msg } = error.data;
    const said = sanitizeErrorMessage(scrub(msg, ctx.secrets), 200);
    const rule = ERROR_CODES[code];
    const shown = safeExchangeCode(code, ctx.secrets);
    const message = `${at}: code ${shown}${said ? ` "${said}"` : ""}${rule ? `: ${rule.hint}` : ""}`;
    const detail: ExchangeErrorDetail = { exchangeCode: shown };
    if (rule?.kind === "retryable") throw Object.assign(new ExchangeRetryableError(message, status), detail);
    if (rule?.kind === "auth") throw Object.assign(new ExchangePermanentError(message, status), detail);
    return { ok: false, code, message, status };
  }
}

/** A refusal as the permanent error it is, with the exchange's code kept. */
export function refused(answer: Refusal, context = ""): ExchangePermanentError & ExchangeErrorDetail {
  const err = new ExchangePermanentError(`${answer.message}${context ? `; ${context}` : ""}`, answer.status);
  return Object.assign(err, { exchangeCode: safeExchangeCode(answer.code) });
}

/** The result of a successful answer checked against its documented shape (field paths only, never values). */
export function parseResult<T>(ctx: CallContext, schema: z.ZodMiniType<T>, answer: Answer): T {
  if (!answer.ok) throw refused(answer);
  const parsed = schema.safeParse(answer.result);
  if (!parsed.success) {
    const fields = fieldPaths(parsed.error.issues, ctx.secrets);
    throw new ExchangePermanentError(`${where(ctx)}: unexpected result shape (${fields})`);
  }
  return parsed.data;
}
