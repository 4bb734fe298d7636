/**
 * Errors are the state machine's API: ASL `Retry`/`Catch` match on `name`, so every failure
 * has its own class with a stable name. Messages carry ids, key ids and fingerprints only —
 * never a secret value (see `sanitizeErrorMessage`).
 */
export class KeyshiftError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input to a step or an endpoint failed validation. Not retryable. */
export class InvalidInputError extends KeyshiftError {}

/** Another rotation holds the per-secret lock. */
export class RotationInProgressError extends KeyshiftError {}

/** The exchange already holds its maximum of active keys; names the unrevoked key and its ledger status. */
export class ExchangeKeyLimitError extends KeyshiftError {}

/** The secret is not enrolled (no settings row). */
export class SecretNotEnrolledError extends KeyshiftError {}

/** The secret's versions/labels are not in a state this step can act on. */
export class RotationStateError extends KeyshiftError {}

/** A freshly created key did not authenticate against the exchange (the `testSecret` step). */
export class KeyVerificationFailedError extends KeyshiftError {}

/** RevokePrevious re-checked the gate and a consumer is not on current any more: wait again. */
export class ConsumersNotReadyError extends KeyshiftError {}

/** A revocation on the exchange failed; the ledger entry records the attempt. */
export class RevocationFailedError extends KeyshiftError {}

/** The exchange answered with something worth retrying (5xx, 429, timeout, network). */
export class ExchangeRetryableError extends KeyshiftError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The exchange refused in a way a retry will not fix (4xx other than 404/429). */
export class ExchangePermanentError extends KeyshiftError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The exchange has no such key. Revocation treats this as done. */
export class ExchangeKeyNotFoundError extends KeyshiftError {}

/** A heartbeat's caller is not registered for the secret. Mapped to HTTP 403. */
export class PrincipalNotAllowedError extends KeyshiftError {}

/** An operator action that makes no sense in the current state (e.g. rollback after revocation). */
export class OperatorActionRejectedError extends KeyshiftError {}

/** The audit chain does not verify. */
export class AuditChainBrokenError extends KeyshiftError {}

const SECRETISH =
  /("?(?:secret|apiSecret|password|token|signature|SecretString)"?\s*[:=]\s*)("(?:[^"\\]|\\.)*"|[^\s,}]+)/gi;

/**
 * Trims an error message to something safe for a ledger, an audit entry or a log: bounded
 * length and with anything that looks like `secret=...` masked. Adapters already avoid
 * putting values in messages; this is the second belt.
 */
export function sanitizeErrorMessage(err: unknown, maxLength = 300): string {
  const raw = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const masked = raw.replace(SECRETISH, "$1***");
  return masked.length > maxLength ? `${masked.slice(0, maxLength)}…` : masked;
}
