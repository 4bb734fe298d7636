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
}

/**
 * Stand-in for STS in the local stack: issues temporary credentials for a role session (what IRSA
 * or an instance profile gives a real consumer) and resolves an access key back to its principal,
 * which is what API Gateway's IAM authorization does after checking the SigV4 signature.
 */
export class LocalIam {
  private readonly sessions = new Map<string, LocalPrincipal>();

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
    return this.sessions.get(accessKeyId);
  }
}
