import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ConfigurationError, sanitizeErrorMessage } from "../core/errors";

/** The principal AWS authenticated, as STS answers for the caller's own credentials. */
export interface CallerIdentity {
  /** `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, or an IAM user's ARN. */
  arn: string;
  account: string;
  userId: string;
}

/**
 * Who is calling, by the credentials the request is signed with: STS GetCallerIdentity (no
 * permission needed, "No permissions are required to perform this operation", STS API reference).
 * The audit's actor for a CLI command comes from here — never from a name someone typed. A failure
 * says what to fix and never carries a credential.
 */
export async function callerIdentity(opts: {
  region: string;
  endpoint?: string | undefined;
}): Promise<CallerIdentity> {
  const sts = new STSClient({ region: opts.region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) });
  try {
    const out = await sts.send(new GetCallerIdentityCommand({}));
    if (!out.Arn || !out.Account || !out.UserId) {
      throw new ConfigurationError("STS GetCallerIdentity answered without Arn, Account or UserId");
    }
    return { arn: out.Arn, account: out.Account, userId: out.UserId };
  } catch (err) {
    if (err instanceof ConfigurationError) throw err;
    throw new ConfigurationError(
      `cannot tell who is running keyshift: STS GetCallerIdentity failed (${sanitizeErrorMessage(err, 200)}); ` +
        "keyshift audits every command under the caller's AWS principal: check the AWS credentials in this shell " +
        "(AWS_PROFILE, or aws sso login)",
      { cause: err },
    );
  } finally {
    sts.destroy();
  }
}
