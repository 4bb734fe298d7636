import { describe, expect, it } from "vitest";
import { toSecretRead } from "../../src/commons/secret-read-event";
import { InvalidInputError } from "../../src/core/errors";

/** A refused GetSecretValue as EventBridge delivers it (shape of a real CloudTrail record). */
function event(detail: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: "0",
    id: "6f0c7e1e-0000-4000-8000-000000000000",
    "detail-type": "AWS API Call via CloudTrail",
    source: "aws.secretsmanager",
    account: "123456789012",
    time: "2030-01-01T08:00:00Z",
    region: "eu-west-1",
    resources: [],
    detail: {
      eventVersion: "1.09",
      userIdentity: {
        type: "AssumedRole",
        principalId: "AROAEXAMPLE:n-1",
        arn: "arn:aws:sts::111122223333:assumed-role/notebook/n-1",
        accountId: "111122223333",
        accessKeyId: "ASIAEXAMPLE",
        sessionContext: {
          sessionIssuer: {
            type: "Role",
            principalId: "AROAEXAMPLE",
            arn: "arn:aws:iam::111122223333:role/analytics/notebook",
            accountId: "111122223333",
            userName: "notebook",
          },
          attributes: { creationDate: "2030-01-01T07:00:00Z", mfaAuthenticated: "false" },
        },
      },
      eventTime: "2030-01-01T08:00:00Z",
      eventSource: "secretsmanager.amazonaws.com",
      eventName: "GetSecretValue",
      awsRegion: "eu-west-1",
      requestParameters: { secretId: "keyshift/exchange/acme/trading" },
      responseElements: null,
      requestID: "req-1",
      eventID: "ev-1",
      readOnly: true,
      eventType: "AwsApiCall",
      managementEvent: true,
      errorCode: "AccessDenied",
      errorMessage: "User: ... with an explicit deny in a resource-based policy",
      ...detail,
    },
  };
}

describe("toSecretRead: CloudTrail's GetSecretValue event as the use case's input", () => {
  it("takes the role behind a session as the principal, the session as the caller", () => {
    expect(toSecretRead(event())).toEqual({
      secretRef: "keyshift/exchange/acme/trading",
      principalArn: "arn:aws:iam::111122223333:role/analytics/notebook",
      callerArn: "arn:aws:sts::111122223333:assumed-role/notebook/n-1",
      at: "2030-01-01T08:00:00Z",
      eventId: "ev-1",
      denied: true,
    });
  });

  it("reads a served call as not denied, and an IAM user by its ARN", () => {
    const user = event({
      errorCode: undefined,
      userIdentity: {
        type: "IAMUser",
        arn: "arn:aws:iam::123456789012:user/alice",
        accountId: "123456789012",
      },
    });

    expect(toSecretRead(user)).toMatchObject({
      principalArn: "arn:aws:iam::123456789012:user/alice",
      callerArn: "arn:aws:iam::123456789012:user/alice",
      denied: false,
    });
  });

  it("names a principal CloudTrail gives no ARN for by its type, account and id", () => {
    const other = event({
      userIdentity: { type: "AWSAccount", accountId: "444455556666", principalId: "AROAX:s" },
    });

    expect(toSecretRead(other)).toMatchObject({ principalArn: "AWSAccount:444455556666:AROAX:s" });
  });

  it("ignores a call that failed for another reason than the policy: no value left the service", () => {
    expect(toSecretRead(event({ errorCode: "ResourceNotFoundException" }))).toEqual({
      ignored: "failed call (ResourceNotFoundException)",
    });
    expect(toSecretRead(event({ requestParameters: null }))).toEqual({ ignored: "no secretId recorded" });
  });

  it("rejects an event that is not a GetSecretValue from CloudTrail, naming the field", () => {
    expect(() => toSecretRead(event({ eventName: "PutSecretValue" }))).toThrow(InvalidInputError);
    expect(() => toSecretRead(event({ eventName: "PutSecretValue" }))).toThrow(/detail\.eventName/);
    expect(() => toSecretRead({ source: "aws.s3" })).toThrow(/detail-type/);
  });
});
