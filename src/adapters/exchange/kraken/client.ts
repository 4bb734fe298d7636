import type * as z from "zod/mini";
import { ExchangePermanentError, ExchangeRetryableError } from "../../../core/errors";
import {
  type ExchangeErrorDetail,
  fetchBounded,
  fieldPaths,
  parseJsonOrUndefined,
  resolveUrl,
  scrub,
} from "../http";
import { type MonotonicNonce, processNonce } from "./nonce";
import { krakenSignedRequest, PRIVATE_PREFIX } from "./signing";
import { classifyError, ERROR_SHAPE, type ErrorKind, envelopeSchema } from "./wire";

/** The key that signs a call, and where Kraken is. */
export interface KrakenSigner {
  endpoint: string;
  apiKey: string;
  secret: string;
}

export interface CallContext {
  operation: string;
  account: string;
  /** Every secret involved in the call, scrubbed from anything Kraken echoes back. */
  secrets: string[];
}

/** Kraken refused the call with a non-retryable error the operation judges (permission, arguments). */
export interface Refusal {
  ok: false;
  kind: ErrorKind | "unknown";
  /** What Kraken said, shown only if it has Kraken's shape and holds no secret. */
  said: string;
  message: string;
  status: number;
}

export type Answer = { ok: true; result: unknown } | Refusal;

export function where(ctx: CallContext): string {
  return `kraken ${ctx.operation} on account ${ctx.account}`;
}

/** Kraken's error string as it may appear in a message (it comes from an answer). */
function shown(text: string, secrets: readonly string[]): string {
  return ERROR_SHAPE.test(text) && scrub(text, secrets) === text ? text : "(error not shown)";
}

/**
 * One signed POST per call to `/0/private/<method>` with a form body, `nonce` first, drawn from a
 * monotonic source. Classification: Kraken answers errors in its `{error:[…]}` envelope (mostly with
 * HTTP 200), so the envelope is read whatever the status. Rate limits, lockouts and outages are
 * retryable; invalid key, signature and nonce are permanent; permission and argument refusals come
 * back as a `Refusal` for the operation to judge (a permission refusal means different things for
 * different calls, see `verify.ts`). An answer without the envelope (Cloudflare's HTML, a proxy's
 * page) is never a success.
 */
export class KrakenClient {
  private readonly nonce: MonotonicNonce;

  constructor(
    private readonly opts: {
      timeoutMs: number;
      fetchImpl?: typeof fetch | undefined;
      nonce?: MonotonicNonce | undefined;
    },
  ) {
    this.nonce = opts.nonce ?? processNonce;
  }

  async call(
    ctx: CallContext,
    signer: KrakenSigner,
    method: string,
    params: Record<string, string> = {},
  ): Promise<Answer> {
    const uriPath = `${PRIVATE_PREFIX}${method}`;
    const { headers, body } = krakenSignedRequest(
      { apiKey: signer.apiKey, secret: signer.secret },
      uriPath,
      this.nonce.next(),
      params,
    );
    const response = await fetchBounded(
      resolveUrl(signer.endpoint, uriPath),
      { method: "POST", headers: { ...headers, "user-agent": "keyshift" }, body },
      {
        where: where(ctx),
        timeoutMs: this.opts.timeoutMs,
        secrets: ctx.secrets,
        fetchImpl: this.opts.fetchImpl,
      },
    );
    return classify(ctx, response);
  }
}

function classify(ctx: CallContext, response: { status: number; text: string }): Answer {
  const { status } = response;
  const at = where(ctx);
  const envelope = envelopeSchema.safeParse(parseJsonOrUndefined(response.text));
  if (!envelope.success) {
    // Kraken sits behind Cloudflare: 429, 5xx and Cloudflare's 52x pages carry no envelope.
    if (status === 429 || status >= 500) {
      throw new ExchangeRetryableError(
        `${at}: HTTP ${status} without Kraken's envelope (edge or gateway)`,
        status,
      );
    }
    throw new ExchangePermanentError(
      `${at}: HTTP ${status} without Kraken's {error, result} envelope; not counted as an answer`,
      status,
    );
  }
  const errors = envelope.data.error.filter((e) => !e.startsWith("W"));
  if (errors.length === 0) {
    if (status >= 200 && status < 300 && envelope.data.result !== undefined) {
      return { ok: true, result: envelope.data.result };
    }
    throw new ExchangePermanentError(
      `${at}: HTTP ${status} with no error and no result; not counted as an answer`,
      status,
    );
  }
  const first = errors[0] as string;
  const rule = classifyError(first);
  const said = shown(first, ctx.secrets);
  const message = `${at}: "${said}"${rule ? `: ${rule.hint}` : ""}`;
  // The code kept on the error is keyshift's own constant when Kraken's string is a known one.
  const detail: ExchangeErrorDetail = rule ? { exchangeCode: rule.prefix } : {};
  if (rule?.kind === "retryable") throw Object.assign(new ExchangeRetryableError(message, status), detail);
  if (rule?.kind === "auth" || rule?.kind === "nonce") {
    throw Object.assign(new ExchangePermanentError(message, status), detail);
  }
  return { ok: false, kind: rule?.kind ?? "unknown", said, message, status };
}

/** A refusal as the permanent error it is, with Kraken's error string kept when known. */
export function refused(answer: Refusal, context = ""): ExchangePermanentError & ExchangeErrorDetail {
  const err = new ExchangePermanentError(`${answer.message}${context ? `; ${context}` : ""}`, answer.status);
  const rule = classifyError(answer.said);
  return Object.assign(err, rule ? { exchangeCode: rule.prefix } : {});
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
