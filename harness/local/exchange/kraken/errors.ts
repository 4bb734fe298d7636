/**
 * A refusal the Kraken simulator answers in Kraken's envelope `{"error":["<string>"]}`, with the
 * error strings of Kraken's "Spot Error Messages" guide, HTTP 200 unless said otherwise.
 */
export class KrakenSimError extends Error {
  constructor(
    readonly error: string,
    readonly httpStatus = 200,
  ) {
    super(error);
    this.name = "KrakenSimError";
  }
}

export const ERR = {
  invalidKey: "EAPI:Invalid key",
  invalidSignature: "EAPI:Invalid signature",
  invalidNonce: "EAPI:Invalid nonce",
  permissionDenied: "EGeneral:Permission denied",
  invalidArguments: "EGeneral:Invalid arguments",
  unknownMethod: "EGeneral:Unknown method",
  rateLimit: "EAPI:Rate limit exceeded",
  unavailable: "EService:Unavailable",
  internal: "EGeneral:Internal error",
} as const;

export function envelope(error: string[], result?: unknown) {
  return result === undefined ? { error } : { error, result };
}
