import { randomInt } from "node:crypto";
import { ExchangePermanentError, ExchangeRetryableError } from "../../../core/errors";
import { fetchBounded, parseJsonOrUndefined, resolveUrl } from "../http";
import { deribitAuthorizationHeader } from "./signing";
import { DERIBIT_API_PREFIX, envelopeSchema } from "./wire";

/** Who signs a call: the admin key, or the new key being verified. */
export interface RpcSigner {
  endpoint: string;
  clientId: string;
  clientSecret: string;
}

export interface RpcContext {
  operation: string;
  account: string;
  /** Every secret involved in the call (keys, TOTP codes), scrubbed from anything echoed back. */
  secrets: string[];
}

/** Deribit answered with its envelope: a result, or its own error. Transport failures throw instead. */
export type RpcAnswer =
  | { ok: true; result: unknown }
  | { ok: false; code: number; message: string; data: unknown; status: number };

/** Extra detail kept on the domain errors without changing their classes (name stays matchable). */
export interface DeribitErrorDetail {
  /** Deribit's own `error.code`, as a string, when it sent one. */
  exchangeCode?: string;
}

export function whereOf(ctx: RpcContext): string {
  return `deribit ${ctx.operation} on account ${ctx.account}`;
}

/**
 * One signed JSON-RPC call: `POST /api/v2/<method>` with the JSON-RPC request as the body, signed
 * with `deri-hmac-sha256` over that exact body (a fresh timestamp and nonce each call — no token
 * to cache or leak between Lambda invocations).
 *
 * Network errors, timeouts, and a 429 or 5xx without Deribit's envelope → `ExchangeRetryableError`;
 * any other answer without the envelope (a proxy's HTML 404, a login page, an empty 200) →
 * `ExchangePermanentError`. Deribit's own errors are returned for the caller to classify.
 */
export class DeribitRpc {
  constructor(
    private readonly opts: { timeoutMs: number; now: () => number; fetchImpl?: typeof fetch | undefined },
  ) {}

  async call(
    ctx: RpcContext,
    signer: RpcSigner,
    method: string,
    params: Record<string, unknown>,
  ): Promise<RpcAnswer> {
    const where = whereOf(ctx);
    const url = resolveUrl(signer.endpoint, `${DERIBIT_API_PREFIX}${method}`);
    const id = randomInt(1, 2 ** 31);
    const body = JSON.stringify({ jsonrpc: "2.0", id, method, params });
    const authorization = deribitAuthorizationHeader(signer, {
      method: "POST",
      uri: url.pathname + url.search,
      body,
      nowMs: this.opts.now(),
    });
    const { status, text } = await fetchBounded(
      url,
      { method: "POST", headers: { authorization, "content-type": "application/json" }, body },
      { where, timeoutMs: this.opts.timeoutMs, secrets: ctx.secrets, fetchImpl: this.opts.fetchImpl },
    );
    const envelope = envelopeSchema.safeParse(parseJsonOrUndefined(text));
    if (!envelope.success) {
      const detail = `HTTP ${status} without Deribit's JSON-RPC envelope`;
      if (status === 429 || status >= 500) throw new ExchangeRetryableError(`${where}: ${detail}`, status);
      throw new ExchangePermanentError(
        `${where}: ${detail} (a proxy, a wrong endpoint or not Deribit); nothing was counted as done`,
        status,
      );
    }
    const answer = envelope.data;
    if (answer.id !== undefined && answer.id !== null && answer.id !== id) {
      throw new ExchangePermanentError(`${where}: answer carries another request's id; not trusted`, status);
    }
    if (answer.error) {
      const { code, message, data } = answer.error;
      return { ok: false, code, message, data, status };
    }
    if (status < 200 || status >= 300 || !("result" in answer)) {
      throw new ExchangePermanentError(
        `${where}: HTTP ${status} with neither Deribit's result nor its error`,
        status,
      );
    }
    return { ok: true, result: answer.result };
  }
}
