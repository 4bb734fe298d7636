/**
 * Who is calling, and whether the secret's resource policy lets them. The caller is identified from
 * the request's SigV4 access key, as AWS does (and as the local heartbeat API does): only when a
 * policy could apply to the operation — so callers of secrets without a policy keep working as
 * before, unsigned or with any credentials — or when a CloudTrail hook wants the identity.
 */
import type { IncomingMessage } from "node:http";
import { type SigningSecret, verifySigV4 } from "../sigv4-verify";
import type { CloudTrailCaller } from "./cloudtrail";
import { accessDenied, authenticationFailed, type ServiceError } from "./errors";
import { compilePolicy, concerns, denies } from "./resource-policy";
import type { SecretsStore } from "./store";
import type { Input } from "./validation";

/** Resolves an access key to its holder: `LocalIam` in the local stack. */
export interface CallerDirectory {
  lookup(accessKeyId: string): (SigningSecret & Omit<CloudTrailCaller, "accessKeyId">) | undefined;
}

export interface Authorization {
  /** The identified caller, when identification was needed or asked for and succeeded. */
  caller?: CloudTrailCaller;
  /** Set when the policy refuses the call: thrown by the server after its CloudTrail record. */
  denied?: ServiceError;
}

async function identify(
  store: SecretsStore,
  request: IncomingMessage,
  body: string,
  directory: CallerDirectory | undefined,
): Promise<CloudTrailCaller | ServiceError> {
  const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "localhost"}`);
  const result = await verifySigV4(
    { method: request.method ?? "POST", url, headers: request.headers, body },
    { service: "secretsmanager", region: store.region },
    (key) => directory?.lookup(key),
  );
  if ("reject" in result) return authenticationFailed(result.reject, store.region);
  const { secretAccessKey: _s, sessionToken: _t, ...who } = result.principal;
  return { accessKeyId: result.accessKeyId, ...who };
}

/**
 * Evaluates the secret's resource policy for `secretsmanager:<operation>`. A caller that cannot be
 * identified where a policy applies is refused with the authentication error AWS would give.
 */
export async function authorize(
  store: SecretsStore,
  request: IncomingMessage,
  body: string,
  operation: string,
  input: Input,
  options: { directory?: CallerDirectory; wantIdentity: boolean },
): Promise<Authorization> {
  const secretId = typeof input.SecretId === "string" ? input.SecretId : undefined;
  const secret = secretId === undefined ? undefined : store.resolve(secretId);
  const action = `secretsmanager:${operation}`;
  // Stored policies were validated at put; one that no longer compiles (an edited state file) is
  // enforced as "deny everything", never ignored.
  let statements: ReturnType<typeof compilePolicy> | undefined;
  if (secret?.resourcePolicy !== undefined) {
    try {
      statements = compilePolicy(secret.resourcePolicy, false);
    } catch {
      statements = [{ actions: ["*"], resources: ["*"], conditions: [] }];
    }
  }
  if (statements && secret && concerns(statements, action)) {
    const caller = await identify(store, request, body, options.directory);
    if (!("userArn" in caller)) throw caller;
    if (denies(statements, { action, resourceArn: secret.arn, principalArn: caller.principalArn })) {
      return { caller, denied: accessDenied(caller.userArn, action, secretId ?? secret.name) };
    }
    return { caller };
  }
  if (!options.wantIdentity) return {};
  const caller = await identify(store, request, body, options.directory);
  return "userArn" in caller ? { caller } : {};
}
