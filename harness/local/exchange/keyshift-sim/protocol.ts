import { registerExchangeProtocol } from "../../../../src/adapters/exchange/protocols";
import { registerRequestBudget } from "../../../../src/adapters/exchange/rate-limits";
import type { ExchangeProtocol } from "../../../../src/adapters/exchange/router";
import { RotationStateError } from "../../../../src/core/errors";
import { type ExchangeAdminCredential, HttpExchange } from "./adapter";

/** The `"exchange"` name of keyshift's own test protocol. */
export const KEYSHIFT_SIM = "keyshift-sim";

export const KEYSHIFT_SIM_ADMIN_SECRET_SHAPE = '{"exchange":"keyshift-sim","endpoint","keyId","secret"}';

/** keyshift's own test protocol (`{"exchange":"keyshift-sim", endpoint, keyId, secret}`): a fixture, never shipped. */
export const keyshiftSimProtocol: ExchangeProtocol<ExchangeAdminCredential> = {
  parseAdminSecret(json, secretId) {
    const p = json as Record<string, unknown>;
    for (const field of ["endpoint", "keyId", "secret"]) {
      if (typeof p[field] !== "string" || p[field] === "") {
        throw new RotationStateError(
          `admin secret ${secretId}: field "${field}" must be a non-empty string; expected ${KEYSHIFT_SIM_ADMIN_SECRET_SHAPE}`,
        );
      }
    }
    return { endpoint: String(p.endpoint), keyId: String(p.keyId), secret: String(p.secret) };
  },
  create: (credentials, opts) => new HttpExchange({ credentials, ...opts }),
};

/**
 * Makes the composition root's router (`buildDeps`, which the real handlers call at cold start)
 * speak keyshift-sim in this process: the local stack calls it before it loads any handler.
 */
export function registerKeyshiftSim(): void {
  registerExchangeProtocol(KEYSHIFT_SIM, keyshiftSimProtocol);
  // The simulator has no limit of its own: a budget as generous as Deribit's lowest tier allows
  // (20 a second). Its adapter sends with `signedFetch`, not `fetchBounded`, so today no request
  // takes a slot (docs/exchanges.md, "Request budget"); the real protocols' simulators do.
  registerRequestBudget(KEYSHIFT_SIM, { limit: 20, windowMs: 1000 });
}
