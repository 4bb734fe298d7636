import type { SigV4Rejection } from "../sigv4-verify";

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

/**
 * A caller whose identity policy does not allow the action (an implicit deny). AWS's wording, HTTP
 * 400, as Secrets Manager answers it (e.g. aws-cdk, terraform and Kralizek's issue threads quote
 * "... is not authorized to perform: secretsmanager:GetResourcePolicy on resource: <arn> because no
 * identity-based policy allows the secretsmanager:GetResourcePolicy action", status code 400);
 * without a resource (ListSecrets) the "on resource" part is left out.
 */
export const notAllowed = (callerArn: string, action: string, resource: string | undefined): ServiceError =>
  new ServiceError(
    "AccessDeniedException",
    `User: ${callerArn} is not authorized to perform: ${action}${resource === undefined ? "" : ` on resource: ${resource}`} because no identity-based policy allows the ${action} action`,
  );

/**
 * The error AWS's JSON front end answers for a request it cannot authenticate, all HTTP 400, with
 * the message `verifySigV4` worded. Checked against:
 * - Secrets Manager's Common Errors page: IncompleteSignature is 400; it lists the Query
 *   protocol's names (InvalidClientTokenId 403), which the JSON 1.1 front end does not answer;
 * - Secrets Manager's answers quoted in public threads: `{"__type":"UnrecognizedClientException",
 *   "message":"The security token included in the request is invalid."}` with "400 Bad Request"
 *   (GetSecretValue, aws/aws-sdk-php-laravel#228; "Status Code: 400" in
 *   spring-attic/spring-cloud-aws#492), `InvalidSignatureException` "Signature expired: … (… - 5 min.)"
 *   for GetSecretValue (boto/botocore#3587; hence the emulator's 5 minutes), and the signature
 *   mismatch's wording (aws/aws-sdk-net#3978);
 * - the same coral front end's answers recorded by dynalite (DynamoDB, JSON 1.0): no or a non-SigV4
 *   header is `MissingAuthenticationTokenException` "Request is missing Authentication Token" (400),
 *   a header lacking a part `IncompleteSignatureException` (400), in the order `verifySigV4` checks.
 */
export function authenticationFailed(rejection: SigV4Rejection): ServiceError {
  const type = {
    missing: "MissingAuthenticationTokenException",
    incomplete: "IncompleteSignatureException",
    expired: "InvalidSignatureException",
    scope: "InvalidSignatureException",
    signature: "InvalidSignatureException",
    "unknown-key": "UnrecognizedClientException",
    token: "UnrecognizedClientException",
  }[rejection.reject];
  return new ServiceError(type, rejection.message);
}
