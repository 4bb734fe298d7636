import { ExchangePermanentError, ExchangeRetryableError, TotpWindowError } from "../../../core/errors";
import type { DeribitAdminConfig } from "./admin-secret";
import { reasonOf, refusalError } from "./refusals";
import { type DeribitRpc, type RpcContext, whereOf } from "./rpc";
import { base32Decode, hotp, totpStep } from "./totp";
import { challengeSchema, DERIBIT_ERROR } from "./wire";

const STEP_MS = 30_000;

/**
 * Deribit's security-key (2FA) flow for the admin key's management calls: a method that needs
 * confirmation answers with a *result* `{security_key_authorization_required: true, challenge}`;
 * the same call is resent with `authorization_data` (the current TOTP code) and `challenge` within
 * a minute. Deribit accepts each TOTP code once (`used_tfa_code`), so one process never sends the
 * same 30-second window's code twice: it waits for the next window when that is a few seconds
 * away (`waitBudgetMs`), and otherwise throws `TotpWindowError` — a wait of up to 30 s (60 s for
 * two codes in one step) does not belong inside a Lambda's timeout; the state machine's Retry
 * waits it out and calls the step again.
 */
export class SecurityKeys {
  /** The last TOTP step sent per admin key, in this process. */
  private readonly lastStep = new Map<string, number>();

  constructor(
    private readonly rpc: DeribitRpc,
    private readonly opts: { now: () => number; sleep: (ms: number) => Promise<void>; waitBudgetMs: number },
  ) {}

  /** Calls `method` as the admin key, answering one security-key challenge if Deribit asks for one. */
  async call(
    ctx: RpcContext,
    admin: DeribitAdminConfig,
    method: string,
    params: Record<string, unknown>,
    hint: (code: number) => string,
  ): Promise<unknown> {
    const signer = { endpoint: admin.endpoint, clientId: admin.clientId, clientSecret: admin.clientSecret };
    for (let attempt = 1; ; attempt++) {
      const first = await this.rpc.call(ctx, signer, method, params);
      if (!first.ok) throw refusalError(ctx, first, hint(first.code));
      const challenge = asChallenge(ctx, first.result);
      if (!challenge) return first.result;
      if (!admin.totpSeed) {
        throw new ExchangePermanentError(
          `${whereOf(ctx)}: Deribit asks for a security-key (2FA) confirmation of ${method} and the admin secret ` +
            'has no "totpSeed": add the account\'s base32 2FA secret as "totpSeed" to the admin secret, or turn ' +
            "off the security-key requirement for API key management on the Deribit account; nothing was changed",
        );
      }
      if (challenge.security_keys && !challenge.security_keys.some((key) => key.type === "tfa")) {
        throw new ExchangePermanentError(
          `${whereOf(ctx)}: Deribit asks for a hardware security key on ${method}; keyshift can only answer ` +
            "with a TOTP (tfa) key: register a TOTP authenticator on the account; nothing was changed",
        );
      }
      const { code, step } = await this.freshCode(ctx, admin.clientId, admin.totpSeed);
      ctx.secrets.push(code);
      const answered = { ...params, authorization_data: code, challenge: challenge.challenge };
      const second = await this.rpc.call(ctx, signer, method, answered);
      if (second.ok) {
        if (asChallenge(ctx, second.result)) {
          throw new ExchangePermanentError(
            `${whereOf(ctx)}: Deribit asked for 2FA again after a valid answer`,
          );
        }
        return second.result;
      }
      if (second.code !== DERIBIT_ERROR.securityKeyAuthorizationError) {
        throw refusalError(ctx, second, hint(second.code));
      }
      const reason = reasonOf(second.data);
      // Another process may have sent this window's code; a challenge may lapse: start over once.
      if (reason === "used_tfa_code") this.markUsed(admin.clientId, step);
      if ((reason === "used_tfa_code" || reason === "challenge_timeout") && attempt === 1) continue;
      throw tfaRefusal(ctx, second, reason);
    }
  }

  private async freshCode(
    ctx: RpcContext,
    clientId: string,
    seed: string,
  ): Promise<{ code: string; step: number }> {
    let step = totpStep(this.opts.now());
    const last = this.lastStep.get(clientId);
    if (last !== undefined && step <= last) {
      const waitMs = (last + 1) * STEP_MS - this.opts.now() + 50;
      if (waitMs > this.opts.waitBudgetMs) {
        // Not slept here: the state machine's Retry on TotpWindowError waits the window out.
        throw Object.assign(
          new TotpWindowError(
            `${whereOf(ctx)}: Deribit accepts each 2FA code once and this window's code was already sent; ` +
              `retry in ${Math.ceil(waitMs / 1000)} s (the next 30-second window)`,
          ),
          { retryAfterSeconds: Math.ceil(waitMs / 1000) },
        );
      }
      await this.opts.sleep(waitMs);
      step = Math.max(totpStep(this.opts.now()), last + 1);
    }
    this.markUsed(clientId, step);
    return { code: hotp(base32Decode(seed), step, 6), step };
  }

  private markUsed(clientId: string, step: number): void {
    this.lastStep.set(clientId, Math.max(step, this.lastStep.get(clientId) ?? step));
  }
}

/** The challenge when `result` is one; a result that claims to be one but is malformed is refused. */
function asChallenge(ctx: RpcContext, result: unknown) {
  if (typeof result !== "object" || result === null || !("security_key_authorization_required" in result)) {
    return undefined;
  }
  const parsed = challengeSchema.safeParse(result);
  if (parsed.success) return parsed.data;
  if (
    (result as { security_key_authorization_required?: unknown }).security_key_authorization_required ===
    false
  ) {
    return undefined;
  }
  throw new ExchangePermanentError(`${whereOf(ctx)}: malformed security-key challenge from Deribit`);
}

function tfaRefusal(ctx: RpcContext, answer: Parameters<typeof refusalError>[1], reason: string | undefined) {
  switch (reason) {
    case "tfa_code_not_matched":
      return refusalError(
        ctx,
        answer,
        "check that the admin secret's \"totpSeed\" is the account's 2FA secret and that this host's clock is right",
      );
    case "used_tfa_code":
    case "challenge_timeout":
      // Both heal with time: the next window's code, a fresh challenge.
      return Object.assign(
        new ExchangeRetryableError(
          `${whereOf(ctx)}: Deribit error ${answer.code} (${reason}); retry`,
          answer.status,
        ),
        { exchangeCode: String(answer.code) },
      );
    default:
      return refusalError(ctx, answer);
  }
}
