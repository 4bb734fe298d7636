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
import { GATE_API_PREFIX, type GateCredential, gateSignedHeaders } from "./signing";
import { errorSchema, LABELS } from "./wire";

/** Who signs a call: the main account's key for management, the key itself for `verifyKey`. */
export interface GateSigner extends GateCredential {
  endpoint: string;
}

export interface CallContext {
  operation: string;
  account: string;
  userId: string;
  /** Every secret involved in the call, scrubbed from anything Gate echoes back. */
  secrets: string[];
}

/** Gate's own refusal of the operation (a label that is not auth, rate limit or outage). */
export interface Refusal {
  ok: false;
  label: string;
  message: string;
  status: number;
}

export type Answer = { ok: true; status: number; data: unknown; empty: boolean } | Refusal;

export function where(ctx: CallContext): string {
  return `gate ${ctx.operation} on account ${ctx.account} (sub-account ${ctx.userId})`;
}

/**
 * One signed request per call (no session). keyshift sends no query strings; a body only with
 * POST, as JSON, signed exactly as sent.
 *
 * Classification: a 2xx is an answer; anything else must carry Gate's `{label, message}` to be
 * Gate's word. Rate limits and outages (TOO_MANY_REQUESTS, TOO_FAST, INTERNAL, SERVER_ERROR,
 * TOO_BUSY; and without the body 429/5xx) are retryable; auth, clock, IP and permission labels are
 * permanent with a hint; any other label comes back as a `Refusal` for the operation to judge. A
 * refusal without Gate's body (a CDN's 403, a proxy's 404 page) is never Gate's answer.
 */
export class GateClient {
  constructor(
    private readonly opts: { timeoutMs: number; now: () => number; fetchImpl?: typeof fetch | undefined },
  ) {}

  async call(
    ctx: CallContext,
    signer: GateSigner,
    method: "GET" | "POST" | "PUT" | "DELETE",
    path: string,
    payload?: unknown,
  ): Promise<Answer> {
    const url = resolveUrl(signer.endpoint, `${GATE_API_PREFIX}${path}`);
    const body = payload === undefined ? "" : JSON.stringify(payload);
    const headers = gateSignedHeaders(
      signer,
      { method, path: url.pathname, query: "", body },
      this.opts.now(),
    );
    headers.accept = "application/json";
    if (body) headers["content-type"] = "application/json";
    const response = await fetchBounded(
      url,
      { method, headers, ...(body ? { body } : {}) },
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
    const { status, headers, text } = response;
    const at = where(ctx);
    if (status >= 200 && status < 300) {
      return { ok: true, status, data: parseJsonOrUndefined(text), empty: text.trim() === "" };
    }
    const refusal = errorSchema.safeParse(parseJsonOrUndefined(text));
    if (!refusal.success) {
      if (status === 429 || status >= 500) {
        throw new ExchangeRetryableError(
          `${at}: HTTP ${status} without Gate's error body (edge or gateway)`,
          status,
        );
      }
      const why =
        status === 404
          ? "a proxy or a wrong endpoint path answered, not Gate; nothing is counted as done"
          : "not counted as an answer";
      throw new ExchangePermanentError(
        `${at}: HTTP ${status} without Gate's {label, message} body: ${why}`,
        status,
      );
    }
    const { label } = refusal.data;
    const said = sanitizeErrorMessage(scrub(refusal.data.message ?? "", ctx.secrets), 200);
    const rule = LABELS[label];
    // The label is Gate's word only in shape: shown only as a safe token.
    const shown = safeExchangeCode(label, ctx.secrets);
    const message = `${at}: HTTP ${status} ${shown}${said ? ` "${said}"` : ""}${rule ? `: ${rule.hint}` : ""}`;
    const detail: ExchangeErrorDetail = { exchangeCode: shown };
    if (rule?.kind === "retryable" || status === 429) {
      const retryAfter = Number(headers.get("retry-after"));
      if (Number.isFinite(retryAfter) && retryAfter > 0) detail.retryAfterSeconds = Math.ceil(retryAfter);
      throw Object.assign(new ExchangeRetryableError(message, status), detail);
    }
    if (rule?.kind === "ip") throw Object.assign(new ExchangeIpRefusedError(message, status), detail);
    if (rule?.kind === "auth") throw Object.assign(new ExchangePermanentError(message, status), detail);
    if (status >= 500) throw Object.assign(new ExchangeRetryableError(message, status), detail);
    return { ok: false, label: shown, message, status };
  }
}

/** A refusal as the permanent error it is, with Gate's label kept. */
export function refused(answer: Refusal, context = ""): ExchangePermanentError & ExchangeErrorDetail {
  const err = new ExchangePermanentError(`${answer.message}${context ? `; ${context}` : ""}`, answer.status);
  return Object.assign(err, { exchangeCode: answer.label });
}

/** A successful answer's body checked against its documented shape (field paths only, never values). */
export function parseAnswer<T>(ctx: CallContext, schema: z.ZodMiniType<T>, answer: Answer): T {
  if (!answer.ok) throw refused(answer);
  const parsed = schema.safeParse(answer.data);
  if (!parsed.success) {
    const fields = answer.data === undefined ? "not JSON" : fieldPaths(parsed.error.issues, ctx.secrets);
    throw new ExchangePermanentError(`${where(ctx)}: unexpected answer shape (${fields})`);
  }
  return parsed.data;
}
