import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";

/**
 * The event the heartbeat function receives for a signed POST: payload v2 with the caller in
 * `requestContext.authorizer.iam`, as the front door (function URL or HTTP API) delivers it.
 */
export function heartbeatEvent(
  callerArn: string,
  body: { secretId: string; fingerprint: string; instanceId: string },
): APIGatewayProxyEventV2WithIAMAuthorizer {
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/heartbeats",
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    requestContext: {
      accountId: "anonymous",
      apiId: "bench",
      authorizer: {
        iam: {
          accessKey: "ASIABENCH",
          accountId: callerArn.split(":")[4] ?? "",
          callerId: "AROABENCH:bench",
          cognitoIdentity: null as never,
          principalOrgId: null as never,
          userArn: callerArn,
          userId: "AROABENCH:bench",
        },
      },
      domainName: "bench.lambda-url.eu-west-1.on.aws",
      domainPrefix: "bench",
      http: {
        method: "POST",
        path: "/heartbeats",
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "bench",
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}
