/**
 * Who is calling, and whether they may — on every call, as AWS does before any operation runs.
 *
 * 1. Authentication: the request's SigV4 signature is checked against the principals the emulator
 *    knows (`CallerDirectory`: `LocalIam` in the local stack). No signature, a malformed one, an
 *    unknown access key or a wrong signature is refused with AWS's error (`authenticationFailed`).
 * 2. Authorization, as IAM evaluates a call within one account: an explicit Deny in the secret's
 *    resource policy refuses; otherwise the caller's identity policy (`allowedActions`) must allow
 *    the action, or the call is implicitly denied. A resource policy holds no Allow here (the
 *    emulator refuses one at put), so the identity policy is the only grant. A Deny naming only
 *    GetSecretValue therefore does not let a denied reader delete the policy and then read: a
 *    reader's role is not granted DeleteResourcePolicy (`WORKLOAD_ACTIONS`); whoever is granted it
 *    can, as on AWS (docs/deploy.md: restrict those actions to the operator).
 */
import type { IncomingMessage } from "node:http";
import { type SigningSecret, verifySigV4 } from "../sigv4-verify";
import type { CloudTrailCaller } from "./cloudtrail";
import { accessDenied, authenticationFailed, notAllowed, type ServiceError } from "./errors";
import { actionMatches, compilePolicy, type DenyStatement, denies } from "./resource-policy";
import type { SecretsStore } from "./store";
import type { Input } from "./validation";

/** An authenticated caller: its identity as CloudTrail reports it, and what it is granted. */
export interface Caller extends CloudTrailCaller {
  /** Its identity policy: IAM action patterns it is allowed, on every secret. */
  allowedActions: readonly string[];
}

/** Resolves an access key to its holder: `LocalIam` in the local stack. */
export interface CallerDirectory {
  lookup(accessKeyId: string): (SigningSecret & Omit<Caller, "accessKeyId">) | undefined;
}

/**
 * Secrets Manager refuses a signature dated more than 5 minutes from its clock ("Signature
 * expired: … (… - 5 min.)", boto/botocore#3587), where most services allow 15.
 */
const MAX_SKEW_MS = 5 * 60 * 1000;

/** The caller of `request`, or throws the authentication error AWS would answer. */
export async function authenticate(
  region: string,
  request: IncomingMessage,
  body: string,
  directory: CallerDirectory,
): Promise<Caller> {
  const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "localhost"}`);
  const result = await verifySigV4(
    { method: request.method ?? "POST", url, headers: request.headers, body },
    { service: "secretsmanager", region, maxSkewMs: MAX_SKEW_MS },
    (key) => directory.lookup(key),
  );
  if ("reject" in result) throw authenticationFailed(result);
  const { secretAccessKey: _s, sessionToken: _t, ...who } = result.principal;
  return { accessKeyId: result.accessKeyId, ...who };
}

/** The secret's resource policy as enforced; one that no longer compiles denies everything. */
function statementsOf(policy: string): DenyStatement[] {
  // Stored policies were validated at put; one that no longer compiles (an edited state file) is
  // enforced as "deny everything", never ignored.
  try {
    return compilePolicy(policy, false);
  } catch {
    return [{ actions: ["*"], resources: ["*"], conditions: [] }];
  }
}

/**
 * Why `caller` may not call `secretsmanager:<operation>` with `input`, or undefined when it may.
 * The resource is named as the request gave it (SecretId, or CreateSecret's Name), as AWS does.
 */
export function authorize(
  store: SecretsStore,
  caller: Caller,
  operation: string,
  input: Input,
): ServiceError | undefined {
  const action = `secretsmanager:${operation}`;
  const named = [input.SecretId, input.Name].find((v): v is string => typeof v === "string");
  const secret = typeof input.SecretId === "string" ? store.resolve(input.SecretId) : undefined;
  if (
    secret?.resourcePolicy !== undefined &&
    denies(statementsOf(secret.resourcePolicy), {
      action,
      resourceArn: secret.arn,
      principalArn: caller.principalArn,
    })
  ) {
    return accessDenied(caller.userArn, action, named ?? secret.name);
  }
  if (!caller.allowedActions.some((pattern) => actionMatches(pattern, action))) {
    return notAllowed(caller.userArn, action, named);
  }
  return undefined;
}
