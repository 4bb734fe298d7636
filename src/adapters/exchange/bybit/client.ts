import type * as z from "zod/mini";
import {
  ExchangeIpRefusedError,
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
import { bybitSignedHeaders } from "./signing";
import { envelopeSchema, RET_CODES } from "./wire";

/** Who signs a call: the master key for management, the key itself for `verifyKey`. */
export interface BybitSigner {
  endpoint: string;
  apiKey: string;
  secret: string;
  recvWindowMs: number;
}

export interface CallContext {
  operation: string;
  account: string;
  subuid: string;
  /** Every secret involved in the call, scrubbed from anything Bybit echoes back. */
  secrets: string[];
}

/** Bybit's own refusal of the operation (a non-zero retCode that is not auth, rate limit or outage). */
export interface Refusal {
  ok: false;
  retCode: number;
  message: string;
  status: number;
}

export type Answer = { ok: true; result: unknown } | Refusal;

export function where(ctx: CallContext): string {
  return `bybit ${ctx.operation} on account ${ctx.account} (sub-account ${ctx.subuid})`;
}

/**
 * One signed request per call (no session, no token): GET parameters go in the query string and
 * POST parameters in a JSON body, each signed exactly as sent.
 *
 * Classification: Bybit answers most errors with HTTP 200 and a non-zero `retCode`, sometimes
 * with 401, so the envelope is read whatever the status. Rate limits and outages (10006, 10018,
 * 10000, 10016; and without an envelope 429/5xx) are retryable; auth, clock, IP and permission
 * codes are permanent with a hint; any other code comes back as a `Refusal` for the operation to
 * judge. An answer without Bybit's envelope (a CDN's 403, a proxy's 404 HTML, a login page on a
 * 200) is never a success.
 */
export class BybitClient {
  constructor(
    private readonly opts: { timeoutMs: number; now: () => number; fetchImpl?: typeof fetch | undefined },
  ) {}

  async call(
    ctx: CallContext,
    signer: BybitSigner,
    method: "GET" | "POST",
    path: string,
    params: Record<string, unknown> = {},
  ): Promise<Answer> {
    const url = resolveUrl(signer.endpoint, path);
    let payload: string;
    if (method === "GET") {
      url.search = Object.keys(params)
        .filter((k) => params[k] !== undefined)
        .sort()
        .map((k) => `${k}=${queryValue(k, String(params[k]))}`)
        .join("&");
      payload = url.search.slice(1);
    } else {
      payload = JSON.stringify(params);
    }
    const headers = bybitSignedHeaders({ apiKey: signer.apiKey, secret: signer.secret }, payload, {
      nowMs: this.opts.now(),
      recvWindowMs: signer.recvWindowMs,
    });
    if (method === "POST") headers["content-type"] = "application/json";
    const response = await fetchBounded(
      url,
      { method, headers, ...(method === "POST" ? { body: payload } : {}) },
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
    const envelope = envelopeSchema.safeParse(parseJsonOrUndefined(response.text));
    if (!envelope.success) {
      if (status === 429 || status >= 500) {
        throw new ExchangeRetryableError(
          `${at}: HTTP ${status} without Bybit's envelope (edge or gateway)`,
          status,
        );
      }
      if (status === 403) {
        throw new ExchangePermanentError(
          `${at}: HTTP 403 without Bybit's envelope: Bybit's edge refuses this IP (IP rate-limit ban of at least 10 minutes, or a restricted region)`,
          status,
        );
      }
      if (status === 404) {
        throw new ExchangePermanentError(
          `${at}: HTTP 404 without Bybit's envelope: a proxy or a wrong endpoint path answered, not Bybit; nothing is counted as done`,
          status,
        );
      }
      throw new ExchangePermanentError(
        `${at}: HTTP ${status} without Bybit's {retCode, retMsg} envelope; not counted as an answer`,
        status,
      );
    }
    const { retCode, retMsg } = envelope.data;
    if (retCode === 0) {
      if (status >= 200 && status < 300) return { ok: true, result: envelope.data.result };
      throw new ExchangePermanentError(
        `${at}: HTTP ${status} with retCode 0; not counted as an answer`,
        status,
      );
    }
    const said = sanitizeErrorMessage(scrub(retMsg, ctx.secrets), 200);
    const rule = RET_CODES[retCode];
    // retCode is Bybit's word only in shape: a number from an answer, shown only as a safe integer.
    const code = safeExchangeCode(retCode, ctx.secrets);
    const message = `${at}: retCode ${code}${said ? ` "${said}"` : ""}${rule ? `: ${rule.hint}` : ""}`;
    const detail: ExchangeErrorDetail = { exchangeCode: code };
    if (rule?.kind === "retryable") {
      const reset = Number(headers.get("x-bapi-limit-reset-timestamp"));
      const wait = Math.ceil((reset - this.opts.now()) / 1000);
      if (Number.isFinite(wait) && wait > 0) detail.retryAfterSeconds = wait;
      throw Object.assign(new ExchangeRetryableError(message, status), detail);
    }
    if (rule?.kind === "ip") throw Object.assign(new ExchangeIpRefusedError(message, status), detail);
    if (rule?.kind === "auth") throw Object.assign(new ExchangePermanentError(message, status), detail);
    return { ok: false, retCode, message, status };
  }
}

/**
 * Cursors Bybit hands back to be sent again (`cursor` from `nextPageCursor`, `nextCursor`).
 * v5 returns them already percent-encoded (`"21963%3A1%2C14954%3A1"`, docs `v5/account/
 * transaction-log.mdx`; pybit sends them back verbatim and signs them so), so they go out as
 * received: encoding them again would send another cursor. One that is not in encoded form (a
 * raw `:`, `=`, `&`, space) is encoded like any value, so the query string stays well formed.
 */
const PRE_ENCODED = new Set(["cursor", "nextCursor"]);
const URL_SAFE = /^(?:[A-Za-z0-9\-._~]|%[0-9A-Fa-f]{2})*$/;

function queryValue(name: string, value: string): string {
  return PRE_ENCODED.has(name) && URL_SAFE.test(value) ? value : encodeURIComponent(value);
}

/** A refusal as the permanent error it is, with the exchange's code kept. */
export function refused(answer: Refusal, context = ""): ExchangePermanentError & ExchangeErrorDetail {
  const err = new ExchangePermanentError(`${answer.message}${context ? `; ${context}` : ""}`, answer.status);
  return Object.assign(err, { exchangeCode: safeExchangeCode(answer.retCode) });
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
