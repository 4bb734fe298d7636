/**
 * What CloudTrail would deliver to EventBridge for a call: the `AWS API Call via CloudTrail` event
 * of a management read, with the identity of the caller (an assumed-role session), the request
 * parameters (never a value: GetSecretValue's parameters are ids and labels) and, for a refused
 * call, `errorCode` / `errorMessage`. The local stack routes these to the secret-read handler, as the
 * EventBridge rule does on AWS.
 */
import { randomUUID } from "node:crypto";

export interface CloudTrailCaller {
  accessKeyId: string;
  /** The session ARN, `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`. */
  userArn: string;
  /** The role's ARN, path included (`sessionIssuer.arn`). */
  principalArn: string;
  accountId: string;
  /** `ROLE-ID:SESSION`. */
  userId: string;
  createdAt: string;
}

export interface CloudTrailApiCallEvent {
  version: "0";
  id: string;
  "detail-type": "AWS API Call via CloudTrail";
  source: "aws.secretsmanager";
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** CloudTrail's times have second precision: `2026-11-29T14:02:11Z`. */
const cloudTrailTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

function userIdentity(caller: CloudTrailCaller | undefined): Record<string, unknown> {
  if (!caller) return { type: "Unknown" };
  const roleName = caller.principalArn.slice(caller.principalArn.lastIndexOf("/") + 1);
  return {
    type: "AssumedRole",
    principalId: caller.userId,
    arn: caller.userArn,
    accountId: caller.accountId,
    accessKeyId: caller.accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId: caller.userId.split(":")[0],
        arn: caller.principalArn,
        accountId: caller.accountId,
        userName: roleName,
      },
      attributes: { creationDate: caller.createdAt, mfaAuthenticated: "false" },
    },
  };
}

export function cloudTrailEvent(call: {
  region: string;
  accountId: string;
  eventName: string;
  requestParameters: Record<string, unknown>;
  caller: CloudTrailCaller | undefined;
  /** Set for a refused call: CloudTrail records `AccessDenied` for an AccessDeniedException. */
  error?: { code: string; message: string };
  requestId: string;
  sourceIp: string;
  userAgent: string;
  atMs: number;
}): CloudTrailApiCallEvent {
  const time = cloudTrailTime(call.atMs);
  const detail: Record<string, unknown> = {
    eventVersion: "1.09",
    userIdentity: userIdentity(call.caller),
    eventTime: time,
    eventSource: "secretsmanager.amazonaws.com",
    eventName: call.eventName,
    awsRegion: call.region,
    sourceIPAddress: call.sourceIp,
    userAgent: call.userAgent,
    requestParameters: call.requestParameters,
    responseElements: null,
    requestID: call.requestId,
    eventID: randomUUID(),
    readOnly: true,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: call.accountId,
    eventCategory: "Management",
  };
  if (call.error) {
    detail.errorCode = call.error.code;
    detail.errorMessage = call.error.message;
  }
  return {
    version: "0",
    id: randomUUID(),
    "detail-type": "AWS API Call via CloudTrail",
    source: "aws.secretsmanager",
    account: call.accountId,
    time,
    region: call.region,
    resources: [],
    detail,
  };
}
