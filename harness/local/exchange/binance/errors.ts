/**
 * A refusal the Binance simulator answers in Binance's error shape `{code, msg}` with the HTTP
 * status Binance uses for it (4XX: the sender's fault; rest-api.md, "HTTP Return Codes").
 * Messages name keys and emails, never a secret.
 */
export class BinanceSimError extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly httpStatus = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(msg);
    this.name = "BinanceSimError";
  }
}

/** Codes the simulator answers, each from binance-spot-api-docs `errors.md`. */
export const CODE = {
  rateLimit: -1003,
  timestamp: -1021,
  signature: -1022,
  mandatory: -1102,
  /**
   * "Invalid data sent for a parameter": also what the simulator answers where Binance publishes
   * no code (an email that is not the master's sub-account, an unknown key to delete, a full
   * sub-account) — unverified, see docs/exchanges.md, Binance. keyshift never relies on it.
   */
  invalid: -1130,
  badKeyFormat: -2014,
  rejectedKey: -2015,
} as const;

export const REJECTED_KEY_MSG = "Invalid API-key, IP, or permissions for action.";

export const mandatory = (name: string) =>
  new BinanceSimError(
    CODE.mandatory,
    `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`,
  );
export const invalid = (name: string, why = "") =>
  new BinanceSimError(CODE.invalid, `Data sent for parameter '${name}' is not valid.${why ? ` ${why}` : ""}`);
/** -2015 with HTTP 401: an unknown or removed key, a caller off the key's IP list, or a missing permission. */
export const rejectedKey = () => new BinanceSimError(CODE.rejectedKey, REJECTED_KEY_MSG, 401);
