import {
  ExchangeIpRefusedError,
  ExchangePermanentError,
  ExchangeRetryableError,
  safeExchangeCode,
  sanitizeErrorMessage,
} from "../../../core/errors";
import { scrub } from "../http";
import { type DeribitErrorDetail, type RpcAnswer, type RpcContext, whereOf } from "./rpc";
import { AUTH_CODES, DERIBIT_ERROR, RETRYABLE_CODES } from "./wire";

/**
 * Deribit's own refusal as a domain error: retryable codes (rate limit, maintenance, overload)
 * become `ExchangeRetryableError`, every other code — known or not — `ExchangePermanentError`
 * (an unknown answer is never success). `hint` tells the operator what to do.
 */
export function refusalError(
  ctx: RpcContext,
  answer: Extract<RpcAnswer, { ok: false }>,
  hint = "",
): (ExchangeRetryableError | ExchangePermanentError) & DeribitErrorDetail {
  // Scrubbed whole, then cut: a cut first could leave a secret's head that no longer matches it.
  const reason = rawReason(answer.data);
  const said = scrub(`${answer.message}${reason ? ` (${reason})` : ""}`, ctx.secrets);
  const code = safeExchangeCode(answer.code, ctx.secrets);
  // The caller's address, not the credential, is what was refused: say so, whichever key it was.
  const ipRefused = isIpRefusal(answer.code, reason);
  const fix = ipRefused ? IP_HINT : hint;
  const message = `${whereOf(ctx)}: Deribit error ${code} ${sanitizeErrorMessage(said, 200)}${fix ? `; ${fix}` : ""}`;
  const err = RETRYABLE_CODES.has(answer.code)
    ? new ExchangeRetryableError(message, answer.status)
    : ipRefused
      ? new ExchangeIpRefusedError(message, answer.status)
      : new ExchangePermanentError(message, answer.status);
  return Object.assign(err, { exchangeCode: code });
}

/**
 * A caller outside the key's `ip_whitelist`. Deribit publishes no code of its own for it: it
 * answers an authorization failure whose `data.reason` names the IP (docs/exchanges.md, Deribit).
 */
function isIpRefusal(code: number, reason: string | undefined): boolean {
  return AUTH_CODES.has(code) && reason !== undefined && /\bip\b|whitelist/i.test(reason);
}

const IP_HINT =
  "the caller's IP address is not on the key's IP whitelist: add keyshift's egress IPs (KEYSHIFT_EGRESS_IPS) to that key's IP whitelist on Deribit";

/** `error.data.reason` when Deribit sent one (a short token such as `tfa_code_not_matched`). */
export function reasonOf(data: unknown): string | undefined {
  return rawReason(data)?.slice(0, 80);
}

function rawReason(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const reason = (data as { reason?: unknown }).reason;
  return typeof reason === "string" ? reason : undefined;
}

export function isDeribitCode(err: unknown, code: number): boolean {
  return (
    err instanceof ExchangePermanentError && (err as { exchangeCode?: string }).exchangeCode === String(code)
  );
}

export /** Codes that say nothing about a full account: everything else may be the 8-key limit. */
function mayBeTheKeyLimit(code: number): boolean {
  return (
    !AUTH_CODES.has(code) &&
    code !== DERIBIT_ERROR.forbidden &&
    code !== DERIBIT_ERROR.scopeExceeded &&
    code !== DERIBIT_ERROR.securityKeyAuthorizationError &&
    code !== DERIBIT_ERROR.tfaOverLimit
  );
}

export /** What the operator should do when Deribit refuses the admin key. */
function adminHint(code: number): string {
  if (AUTH_CODES.has(code)) {
    return "the admin key was refused: check clientId/clientSecret in the admin secret, that the key is enabled and its IP whitelist holds keyshift's egress IPs, and this host's clock (a signature is valid 60 s)";
  }
  if (code === DERIBIT_ERROR.forbidden) return "the admin key lacks a scope: it needs account:read_write";
  if (code === DERIBIT_ERROR.scopeExceeded) {
    return "the admin key cannot grant a scope it does not hold: widen its max_scope to cover every scope of the keys it rotates";
  }
  if (code === DERIBIT_ERROR.tfaOverLimit)
    return "too many failed 2FA attempts: wait, then check the admin secret's totpSeed";
  return "";
}
