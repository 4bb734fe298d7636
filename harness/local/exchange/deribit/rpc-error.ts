/**
 * A refusal the Deribit simulator answers with Deribit's JSON-RPC error object
 * `{code, message, data?}`. Messages and data name fields, accounts and key ids, never a secret.
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: Record<string, unknown>,
    /** HTTP status of the answer: 401 for authentication failures, 400 for other refusals. */
    readonly httpStatus = 400,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

/** The codes the simulator answers with (sourced in docs/exchanges.md, Deribit). */
export const CODE = {
  authorizationRequired: 10000,
  error: 10001,
  tooManyRequests: 10028,
  badRequest: 11050,
  invalidCredentials: 13004,
  unauthorized: 13009,
  notFound: 13020,
  forbidden: 13021,
  temporarilyUnavailable: 13028,
  scopeExceeded: 13403,
  securityKeyAuthorizationError: 13668,
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
} as const;

export function authError(code: number, message: string, reason: string): RpcError {
  return new RpcError(code, message, { reason }, 401);
}

export function invalidParams(param: string, reason: string): RpcError {
  return new RpcError(CODE.invalidParams, "Invalid params", { reason, param });
}
