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
import { type OkxCredential, okxSignedHeaders } from "./signing";
import { CODES, envelopeSchema } from "./wire";

/** Who signs a call: the master key for management, the key itself for `verifyKey`. */
export interface OkxSigner extends OkxCredential {
  endpoint: string;
  demo: boolean;
}

export interface CallContext {
  operation: string;
  account: string;
  subAcct: string;
  /** Every secret involved in the call (secret keys, passphrases), scrubbed from anything OKX echoes back. */
  secrets: string[];
}

/** OKX's own refusal of the operation (a non-zero code that is not auth, rate limit or outage). */
export interface Refusal {
  ok: false;
  code: string;
  message: string;
  status: number;
}

export type Answer = { ok: true; data: unknown } | Refusal;

export function where(ctx: CallContext): string {
  return `okx ${ctx.operation} on account ${ctx.account} (sub-account ${ctx.subAcct})`;
}

/**
 * One signed request per call (no session): GET parameters go in the query string, which is part
 * of the signed request path, and POST parameters in a JSON body, signed exactly as sent.
 *
 * Classification: OKX answers errors in its `{code, msg, data}` envelope with HTTP 200, 4xx or
 * 5xx, so the envelope is read whatever the status. Rate limits and outages (50011, 50013, 50001,
 * 50004, 50005, 50026; and without an envelope 429/5xx) are retryable; auth, clock, IP and
 * permission codes are permanent with a hint; any other code comes back as a `Refusal` for the
 * operation to judge. An answer without OKX's envelope (a CDN's 403, a proxy's 404 page, a login
 * page on a 200) is never a success.
 */
export class OkxClient {
  constructor(
    private readonly opts: { timeoutMs: number; now: () => number; fetchImpl?: typeof fetch | undefined },
  ) {}

  async call(
    ctx: CallContext,
    signer: OkxSigner,
    method: "GET" | "POST",
    path: string,
    params: Record<string, string | undefined> = {},
  ): Promise<Answer> {
    const url = resolveUrl(signer.endpoint, path);
    const defined = Object.entries(params).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    );
    let body = "";
    if (method === "GET") {
      url.search = defined.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
    } else {
      body = JSON.stringify(Object.fromEntries(defined));
    }
    const headers = okxSignedHeaders(
      signer,
      { method, requestPath: url.pathname + url.search, body },
      { nowMs: this.opts.now(), demo: signer.demo },
    );
    headers["content-type"] = "application/json";
    const response = await fetchBounded(
      url,
      { method, headers, ...(method === "POST" ? { body } : {}) },
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
          `${at}: HTTP ${status} without OKX's envelope (edge or gateway)`,
          status,
        );
      }
      const why =
        status === 404
          ? "a proxy or a wrong endpoint path answered, not OKX; nothing is counted as done"
          : "not counted as an answer";
      throw new ExchangePermanentError(
        `${at}: HTTP ${status} without OKX's {code, msg} envelope: ${why}`,
        status,
      );
    }
    const { code, msg } = envelope.data;
    if (code === "0") {
      if (status >= 200 && status < 300) return { ok: true, data: envelope.data.data };
      throw new ExchangePermanentError(`${at}: HTTP ${status} with code 0; not counted as an answer`, status);
    }
    const said = sanitizeErrorMessage(scrub(msg, ctx.secrets), 200);
    const rule = CODES[code];
    // The code is OKX's word only in shape: shown only as a safe token.
    const shown = safeExchangeCode(code, ctx.secrets);
    const message = `${at}: code ${shown}${said ? ` "${said}"` : ""}${rule ? `: ${rule.hint}` : ""}`;
    const detail: ExchangeErrorDetail = { exchangeCode: shown };
    if (rule?.kind === "retryable") {
      const retryAfter = Number(headers.get("retry-after"));
      if (Number.isFinite(retryAfter) && retryAfter > 0) detail.retryAfterSeconds = Math.ceil(retryAfter);
      throw Object.assign(new ExchangeRetryableError(message, status), detail);
    }
    if (rule?.kind === "ip") throw Object.assign(new ExchangeIpRefusedError(message, status), detail);
    if (rule?.kind === "auth") throw Object.assign(new ExchangePermanentError(message, status), detail);
    return { ok: false, code: shown, message, status };
  }
}

/** A refusal as the permanent error it is, with the exchange's code kept. */
export function refused(answer: Refusal, context = ""): ExchangePermanentError & ExchangeErrorDetail {
  const err = new ExchangePermanentError(`${answer.message}${context ? `; ${context}` : ""}`, answer.status);
  return Object.assign(err, { exchangeCode: answer.code });
}

/**
 * The `data` array of a successful answer, each entry checked against its documented shape (field
 * paths only, never values).
 */
export function parseData<T>(ctx: CallContext, schema: z.ZodMiniType<T>, answer: Answer): T[] {
  if (!answer.ok) throw refused(answer);
  if (!Array.isArray(answer.data)) {
    throw new ExchangePermanentError(`${where(ctx)}: unexpected answer shape (data is not an array)`);
  }
  return answer.data.map((entry) => {
    const parsed = schema.safeParse(entry);
    if (!parsed.success) {
      const fields = fieldPaths(parsed.error.issues, ctx.secrets);
      throw new ExchangePermanentError(`${where(ctx)}: unexpected result shape (${fields})`);
    }
    return parsed.data;
  });
}

/** The one entry an answer must hold (`data: [ {...} ]`). */
export function parseOne<T>(ctx: CallContext, schema: z.ZodMiniType<T>, answer: Answer): T {
  const [first, ...rest] = parseData(ctx, schema, answer);
  if (first === undefined || rest.length > 0) {
    throw new ExchangePermanentError(
      `${where(ctx)}: expected one entry in data, got ${rest.length + (first ? 1 : 0)}`,
    );
  }
  return first;
}
