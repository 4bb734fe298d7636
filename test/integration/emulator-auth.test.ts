import { Sha256 } from "@aws-crypto/sha256-js";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_ACCOUNT, LOCAL_REGION } from "../../harness/local/definition";
import { type LocalCredentials, LocalIam } from "../../harness/local/local-iam";
import { type LocalSns, startLocalSns } from "../../harness/local/sns";
import {
  LOCAL_STATE_MACHINE_ARN,
  type LocalStepFunctionsApi,
  startLocalStepFunctionsApi,
} from "../../harness/local/stepfunctions-api";

/**
 * The SNS and Step Functions emulators authenticate like AWS (issue 15, deliverable 7): every
 * request's SigV4 signature is checked against LocalIam, and refused with the error name and HTTP
 * status of each service's protocol (SNS: Query, XML ErrorResponse; Step Functions: JSON 1.0).
 */

const TOPIC = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:keyshift-auth-test`;
const KEYSHIFT_ROLE = `arn:aws:iam::${LOCAL_ACCOUNT}:role/keyshift-auth-test`;
const WORKLOAD_ROLE = `arn:aws:iam::${LOCAL_ACCOUNT}:role/trading-engine`;

let iam: LocalIam;
let keyshift: LocalCredentials;
let workload: LocalCredentials;
let sns: LocalSns;
let sfn: LocalStepFunctionsApi;

beforeAll(async () => {
  iam = new LocalIam();
  iam.grant(KEYSHIFT_ROLE, ["sns:Publish", "states:StartExecution", "states:DescribeExecution"]);
  keyshift = iam.assumeRole(KEYSHIFT_ROLE, "keyshift");
  workload = iam.assumeRole(WORKLOAD_ROLE, "engine-1");
  sns = await startLocalSns({ callers: iam, region: LOCAL_REGION });
  sfn = await startLocalStepFunctionsApi({ waitMs: 10, retryMs: 10, callers: iam });
});
afterAll(async () => {
  await sns.close();
  await sfn.close();
});

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const unknownKey: Credentials = {
  accessKeyId: "ASIAUNKNOWN0000000000",
  secretAccessKey: "s",
  sessionToken: "t",
};
const wrongSecret = (): Credentials => ({ ...keyshift, secretAccessKey: "not-the-secret" });
const wrongToken = (): Credentials => ({ ...keyshift, sessionToken: "not-the-token" });

const snsClient = (credentials: Credentials, region = LOCAL_REGION) =>
  new SNSClient({ endpoint: sns.endpoint, region, credentials, maxAttempts: 1 });
const sfnClient = (credentials: Credentials, region = LOCAL_REGION) =>
  new SFNClient({ endpoint: sfn.endpoint, region, credentials, maxAttempts: 1 });

const publish = (credentials: Credentials, region?: string) =>
  snsClient(credentials, region).send(new PublishCommand({ TopicArn: TOPIC, Message: "{}" }));
const describeExecution = (credentials: Credentials, region?: string) =>
  sfnClient(credentials, region).send(
    new DescribeExecutionCommand({ executionArn: `${LOCAL_STATE_MACHINE_ARN}:nope` }),
  );

/** The error's name and HTTP status as the SDK surfaced them. */
async function refusal(call: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  const err = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as { name: string; message: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!err) throw new Error("the call was accepted");
  return { name: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
}

/** A request signed by hand, for what the SDK will not send (another service's scope, no signature). */
async function raw(
  endpoint: string,
  request: { headers: Record<string, string>; body: string },
  sign?: { service: string; credentials: Credentials },
): Promise<{ status: number; text: string }> {
  const url = new URL(endpoint);
  let headers = { ...request.headers, host: url.host };
  if (sign) {
    const signer = new SignatureV4({
      credentials: sign.credentials,
      region: LOCAL_REGION,
      service: sign.service,
      sha256: Sha256,
    });
    const signed = await signer.sign({
      method: "POST",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: "/",
      headers,
      body: request.body,
    });
    headers = signed.headers as typeof headers;
  }
  const { host: _host, ...sent } = headers;
  const res = await fetch(endpoint, { method: "POST", headers: sent, body: request.body });
  return { status: res.status, text: await res.text() };
}

const publishForm = {
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({
    Action: "Publish",
    Version: "2010-03-31",
    TopicArn: TOPIC,
    Message: "{}",
  }).toString(),
};
const describeJson = {
  headers: {
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": "AWSStepFunctions.DescribeExecution",
  },
  body: JSON.stringify({ executionArn: `${LOCAL_STATE_MACHINE_ARN}:nope` }),
};

const xmlCode = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

describe("local SNS authenticates every Publish as SNS's Query front end does", () => {
  it("refuses an unsigned request: MissingAuthenticationToken, 403, as an XML ErrorResponse", async () => {
    const before = sns.messages().length;
    const res = await raw(sns.endpoint, publishForm);

    expect(res.status).toBe(403);
    expect(res.text).toMatch(/^<ErrorResponse xmlns="http:\/\/sns\.amazonaws\.com\/doc\/2010-03-31\/">/);
    expect(xmlCode(res.text)).toBe("MissingAuthenticationToken");
    expect(res.text).toContain("<Type>Sender</Type>");
    expect(sns.messages().length).toBe(before);
  });

  it("refuses an unknown access key or a session token not issued with it: InvalidClientTokenId, 403", async () => {
    for (const credentials of [unknownKey, wrongToken()]) {
      expect(await refusal(publish(credentials))).toMatchObject({
        name: "InvalidClientTokenId",
        status: 403,
        message: "The security token included in the request is invalid.",
      });
    }
  });

  it("refuses a bad signature: SignatureDoesNotMatch, 403", async () => {
    expect(await refusal(publish(wrongSecret()))).toMatchObject({
      name: "SignatureDoesNotMatch",
      status: 403,
    });
  });

  it("refuses a credential scoped to another region or service: SignatureDoesNotMatch, 403", async () => {
    expect(await refusal(publish(keyshift, "eu-west-1"))).toMatchObject({
      name: "SignatureDoesNotMatch",
      status: 403,
      message: expect.stringContaining("Credential should be scoped to a valid region"),
    });
    const res = await raw(sns.endpoint, publishForm, { service: "sqs", credentials: keyshift });
    expect(res.status).toBe(403);
    expect(xmlCode(res.text)).toBe("SignatureDoesNotMatch");
    expect(res.text).toContain("Credential should be scoped to correct service: &#39;sns&#39;.");
  });

  it("refuses a known caller whose role is not granted sns:Publish: AuthorizationError, 403", async () => {
    // The wire code is AuthorizationError; the SDK maps it to its modeled exception class.
    expect(await refusal(publish(workload))).toMatchObject({
      name: "AuthorizationErrorException",
      status: 403,
      message: `User: arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/trading-engine/engine-1 is not authorized to perform: SNS:Publish on resource: ${TOPIC} because no identity-based policy allows the SNS:Publish action`,
    });
  });

  it("accepts a Publish signed by a known caller granted sns:Publish", async () => {
    const before = sns.messages().length;
    const sent = await publish(keyshift);

    expect(sent.MessageId).toBeTruthy();
    expect(sns.messages().slice(before)).toEqual([
      expect.objectContaining({ topicArn: TOPIC, message: "{}" }),
    ]);
  });
});

describe("local Step Functions API authenticates every call as the JSON 1.0 front end does", () => {
  it("refuses an unsigned request: MissingAuthenticationTokenException, 400", async () => {
    const res = await raw(sfn.endpoint, describeJson);

    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({
      __type: "MissingAuthenticationTokenException",
      message: "Request is missing Authentication Token",
    });
  });

  it("refuses an unknown access key or a session token not issued with it: UnrecognizedClientException, 400", async () => {
    for (const credentials of [unknownKey, wrongToken()]) {
      expect(await refusal(describeExecution(credentials))).toMatchObject({
        name: "UnrecognizedClientException",
        status: 400,
        message: "The security token included in the request is invalid.",
      });
    }
  });

  it("refuses a bad signature: InvalidSignatureException, 400", async () => {
    expect(await refusal(describeExecution(wrongSecret()))).toMatchObject({
      name: "InvalidSignatureException",
      status: 400,
    });
  });

  it("refuses a credential scoped to another region or service: InvalidSignatureException, 400", async () => {
    expect(await refusal(describeExecution(keyshift, "eu-west-1"))).toMatchObject({
      name: "InvalidSignatureException",
      status: 400,
    });
    const res = await raw(sfn.endpoint, describeJson, { service: "lambda", credentials: keyshift });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({
      __type: "InvalidSignatureException",
      message: "Credential should be scoped to correct service: 'states'.",
    });
  });

  it("refuses a known caller whose role may not start or describe executions: AccessDeniedException, 400", async () => {
    const start = sfnClient(workload).send(
      new StartExecutionCommand({ stateMachineArn: LOCAL_STATE_MACHINE_ARN, input: "{}" }),
    );
    expect(await refusal(start)).toMatchObject({
      name: "AccessDeniedException",
      status: 400,
      message: `User: arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/trading-engine/engine-1 is not authorized to perform: states:StartExecution on resource: ${LOCAL_STATE_MACHINE_ARN} because no identity-based policy allows the states:StartExecution action`,
    });
    expect(await refusal(describeExecution(workload))).toMatchObject({ name: "AccessDeniedException" });
  });

  it("accepts a call signed by a known caller granted the action: it reaches the operation", async () => {
    // Past authentication and authorization, the operation answers for itself.
    expect(await refusal(describeExecution(keyshift))).toMatchObject({
      name: "ExecutionDoesNotExist",
      status: 400,
    });
  });
});
