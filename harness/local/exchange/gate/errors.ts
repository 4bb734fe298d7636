/**
 * A refusal the Gate simulator answers with Gate's `{label, message}` and an HTTP status
 * (docs/exchanges.md, Gate: labels from Gate's label list; 401 for authentication, 403 for a
 * permission, 429 for the rate limit, 400 for a malformed request). Messages name keys and
 * sub-accounts, never a secret.
 */
export class GateSimError extends Error {
  constructor(
    readonly label: string,
    readonly msg: string,
    readonly httpStatus = 400,
  ) {
    super(msg);
    this.name = "GateSimError";
  }
}

/** The labels the simulator answers, each from Gate's label list. */
export const LABEL = {
  missingHeader: "MISSING_REQUIRED_HEADER",
  invalidKey: "INVALID_KEY",
  invalidSignature: "INVALID_SIGNATURE",
  expired: "REQUEST_EXPIRED",
  ipForbidden: "IP_FORBIDDEN",
  forbidden: "FORBIDDEN",
  readOnly: "READ_ONLY",
  subAccountNotFound: "SUB_ACCOUNT_NOT_FOUND",
  notFound: "NOT_FOUND",
  invalidParam: "INVALID_PARAM_VALUE",
  invalidBody: "INVALID_REQUEST_BODY",
  badRequest: "BAD_REQUEST",
  tooMany: "TOO_MANY_REQUESTS",
  serverError: "SERVER_ERROR",
  internal: "INTERNAL",
} as const;

export function errorBody(label: string, message: string) {
  return { label, message };
}

export const invalidParam = (name: string) =>
  new GateSimError(LABEL.invalidParam, `invalid value of ${name}`);
