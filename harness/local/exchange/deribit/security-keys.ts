import { randomBytes } from "node:crypto";
import { base32Decode, hotp, totpStep } from "../../../../src/adapters/exchange/deribit/totp";
import type { SimAccount } from "./accounts";
import { CODE, RpcError } from "./rpc-error";

/** A challenge must be answered within a minute. */
const CHALLENGE_TTL_MS = 60_000;

export interface Challenge {
  security_keys: Array<{ type: string; name: string }>;
  security_key_authorization_required: true;
  rp_id: string;
  challenge: string;
}

/**
 * Deribit's security-key confirmation, for accounts that require it: the first call gets a
 * challenge (a result, not an error); the resent call must carry that challenge and the current
 * TOTP code of the account's 2FA secret. Each challenge is single-use and lives a minute; each
 * code is accepted once. Refusals are error 13668 with Deribit's `data.reason` values.
 */
export class SecurityKeyBook {
  private readonly challenges = new Map<string, { clientId: string; method: string; expiresAt: number }>();
  private readonly usedSteps = new Map<string, Set<number>>();

  constructor(
    private readonly now: () => number,
    private readonly rpId: string,
  ) {}

  /** Undefined when the call may proceed; a challenge to answer with otherwise. Throws 13668 for a bad answer. */
  check(
    account: SimAccount,
    clientId: string,
    method: string,
    params: Record<string, unknown>,
  ): Challenge | undefined {
    if (!account.totpSeed) return undefined;
    const { authorization_data: code, challenge } = params;
    if (code === undefined && challenge === undefined) return this.issue(clientId, method);
    const issued = typeof challenge === "string" ? this.challenges.get(challenge) : undefined;
    if (typeof challenge === "string") this.challenges.delete(challenge);
    if (
      !issued ||
      issued.expiresAt < this.now() ||
      issued.clientId !== clientId ||
      issued.method !== method
    ) {
      throw refusal("challenge_timeout");
    }
    if (typeof code !== "string" || code === "") throw refusal("tfa_code_is_required");
    const step = this.matchingStep(account.totpSeed, code);
    if (step === undefined) throw refusal("tfa_code_not_matched");
    const used = this.usedSteps.get(account.name) ?? new Set<number>();
    if (used.has(step)) throw refusal("used_tfa_code");
    used.add(step);
    this.usedSteps.set(account.name, used);
    return undefined;
  }

  private issue(clientId: string, method: string): Challenge {
    const challenge = randomBytes(32).toString("base64");
    this.challenges.set(challenge, { clientId, method, expiresAt: this.now() + CHALLENGE_TTL_MS });
    return {
      security_keys: [{ type: "tfa", name: "tfa" }],
      security_key_authorization_required: true,
      rp_id: this.rpId,
      challenge,
    };
  }

  /** The current window, or the one before it (a code typed as the window turned). */
  private matchingStep(seed: string, code: string): number | undefined {
    const key = base32Decode(seed);
    const current = totpStep(this.now());
    return [current, current - 1].find((step) => hotp(key, step, 6) === code);
  }
}

function refusal(reason: string): RpcError {
  return new RpcError(CODE.securityKeyAuthorizationError, "security_key_authorization_error", { reason });
}
