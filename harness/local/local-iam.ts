import { randomBytes } from "node:crypto";

export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

export interface LocalPrincipal {
  secretAccessKey: string;
  sessionToken: string;
  /** What API Gateway reports as `authorizer.iam.userArn`: the assumed-role session ARN. */
  userArn: string;
  /** `aws:PrincipalArn` in a policy, CloudTrail's `sessionIssuer.arn`: the role's ARN, path included. */
  principalArn: string;
  accountId: string;
  userId: string;
  /** When the session's credentials were issued (CloudTrail's `sessionContext.attributes.creationDate`). */
  createdAt: string;
  /**
   * The actions the role's identity policy allows (IAM action names, `*` and `?` wildcards), on
   * every resource: what the local services check after the signature (the Secrets Manager
   * emulator does; the heartbeat's function URL authorizes by the registry instead).
   */
  allowedActions: readonly string[];
}

/**
 * A role nobody granted more: a workload that reads its secret, with what docs/deploy.md tells a
 * consumer's role to be given, `secretsmanager:GetSecretValue`, and nothing else — so it cannot
 * write a secret, nor read, replace or delete a resource policy.
 */
export const WORKLOAD_ACTIONS: readonly string[] = ["secretsmanager:GetSecretValue"];

/**
 * Stand-in for STS and IAM in the local stack: issues temporary credentials for a role session
 * (what IRSA or an instance profile gives a real consumer), holds each role's identity policy
 * (`grant`; `WORKLOAD_ACTIONS` unless granted), and resolves an access key back to its principal,
 * which is what an AWS front end does after checking the SigV4 signature.
 */
export class LocalIam {
  private readonly sessions = new Map<string, Omit<LocalPrincipal, "allowedActions">>();
  private readonly policies = new Map<string, readonly string[]>();

  /**
   * Sets the identity policy of `roleArn`: the actions its sessions may call, replacing what it had.
   * Applies to sessions already issued, as an IAM policy change does.
   */
  grant(roleArn: string, actions: readonly string[]): void {
    this.policies.set(roleArn, [...actions]);
  }

  assumeRole(roleArn: string, sessionName: string): LocalCredentials {
    const match = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
    if (!match) throw new Error(`not a role ARN: ${roleArn}`);
    const [, accountId = "", roleName = ""] = match;
    const accessKeyId = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
    const credentials = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString("base64url"),
      sessionToken: randomBytes(48).toString("base64url"),
    };
    const roleId = `AROA${randomBytes(8).toString("hex").toUpperCase()}`;
    this.sessions.set(accessKeyId, {
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
      userArn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
      principalArn: roleArn,
      accountId,
      userId: `${roleId}:${sessionName}`,
      createdAt: new Date().toISOString(),
    });
    return credentials;
  }

  lookup(accessKeyId: string): LocalPrincipal | undefined {
    const session = this.sessions.get(accessKeyId);
    if (!session) return undefined;
    return { ...session, allowedActions: this.policies.get(session.principalArn) ?? WORKLOAD_ACTIONS };
  }
}
