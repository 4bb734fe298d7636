/**
 * Errors as Secrets Manager puts them on the wire: a `__type` the SDK maps to its modeled
 * exception class, an HTTP status, and a message. Messages name ids, labels and parameter
 * names only — never a secret value, because callers log them.
 */
export class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export const secretNotFound = (): ServiceError =>
  new ServiceError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.");

export const resourceNotFound = (message: string): ServiceError =>
  new ServiceError("ResourceNotFoundException", message);

export const invalidParameter = (message: string): ServiceError =>
  new ServiceError("InvalidParameterException", message);

export const invalidRequest = (message: string): ServiceError =>
  new ServiceError("InvalidRequestException", message);

export const resourceExists = (message: string): ServiceError =>
  new ServiceError("ResourceExistsException", message);

export const invalidNextToken = (): ServiceError =>
  new ServiceError("InvalidNextTokenException", "The NextToken value is invalid.");

/** A model constraint (required, length, range, enum) failed: AWS's framework-level error. */
export const validationError = (message: string): ServiceError =>
  new ServiceError("ValidationException", `1 validation error detected: ${message}`);

/** Rejected secret names come back as a ValidationException with a bare message. */
export const invalidName = (): ServiceError =>
  new ServiceError(
    "ValidationException",
    "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!",
  );

/** The body is not JSON, or a member has the wrong JSON type. */
export const serializationError = (message: string): ServiceError =>
  new ServiceError("SerializationException", message);

export const unknownOperation = (): ServiceError =>
  new ServiceError("UnknownOperationException", "The requested operation is not recognized by the service.");

export const markedForDeletion = (): ServiceError =>
  invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");

/**
 * A caller an explicit Deny in the secret's resource policy refuses. The resource is named as the
 * request gave it (name or ARN), as AWS's message does.
 */
export const accessDenied = (callerArn: string, action: string, resource: string): ServiceError =>
  new ServiceError(
    "AccessDeniedException",
    `User: ${callerArn} is not authorized to perform: ${action} on resource: ${resource} with an explicit deny in a resource-based policy`,
  );

/** Why a request's SigV4 signature was not accepted, as AWS's JSON front end answers. */
export const authenticationFailed = (
  reason: "missing" | "scope" | "unknown-key" | "token" | "expired" | "signature",
  region: string,
): ServiceError => {
  switch (reason) {
    case "missing":
      return new ServiceError("MissingAuthenticationTokenException", "Missing Authentication Token");
    case "scope":
      return new ServiceError(
        "InvalidSignatureException",
        `Credential should be scoped to a valid region and service secretsmanager in ${region}.`,
      );
    case "unknown-key":
    case "token":
      return new ServiceError(
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
      );
    case "expired":
      return new ServiceError(
        "InvalidSignatureException",
        "Signature expired: the request date is more than 15 minutes off.",
      );
    case "signature":
      return new ServiceError(
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
      );
  }
};
