import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { LOCAL_ACCOUNT } from "./definition";
import { lambdaContext } from "./lambda-context";
import type { LocalIam } from "./local-iam";
import { actionMatches } from "./secrets-manager/resource-policy";
import { parseAmzDate, parseAuthorization, SERVICE, signRequest } from "./sigv4";

/** AWS rejects SigV4 requests whose date is more than 15 minutes off. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_BODY_BYTES = 64 * 1024;
/** What a function URL with AWS_IAM auth answers to any caller it does not let through. */
export const FORBIDDEN_MESSAGE =
  "Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html";
/** The url-id of the local function URL (a real one is 32 characters of [a-z0-9]). */
const URL_ID = "keyshiftlocalheartbeat0000000000";
/** `host[:port]` as an HTTP Host header may carry it: a name, IPv4 or [IPv6], and a port. */
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

type FunctionHandler = (
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LocalHttpApi {
  url: string;
  close(): Promise<void>;
}

/**
 * The local heartbeat front door: what a Lambda function URL with `AWS_IAM` auth does. It checks
 * the SigV4 signature (service `lambda`) against the caller's (local) credentials, turns away what
 * it does not let through as the real one does (403 AccessDeniedException, the function never
 * runs), and hands the function every other request — any path, any method, the function decides —
 * as a payload v2 event whose `requestContext.authorizer.iam` names the caller.
 */
export async function startLocalFunctionUrl(opts: {
  iam: LocalIam;
  region: string;
  functionName: string;
  handler: FunctionHandler;
  /**
   * The action the caller's identity policy must allow (`lambda:InvokeFunctionUrl` for the operator
   * API: only a role given the operator policy gets in); none: any authenticated caller (the
   * heartbeat authorizes by the registry instead).
   */
  requireAction?: string;
}): Promise<LocalHttpApi> {
  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(typeof body === "string" ? body : JSON.stringify(body));
    };
    try {
      // A Host the URL parser cannot take is the client's error, answered before anything else.
      const host = req.headers.host ?? "";
      if (!HOST.test(host)) return send(400, { Message: "Bad Request: invalid Host header" });
      const url = new URL(req.url ?? "/", `http://${host}`);
      const body = await readBody(req);
      if (body === undefined) {
        return send(413, {
          Message: `Request must be smaller than ${MAX_BODY_BYTES} bytes for the local front door`,
        });
      }
      const authenticated = await authenticate(req, url, body, opts.iam, opts.region);
      const action = opts.requireAction;
      const caller =
        "reject" in authenticated ||
        !action ||
        authenticated.allowedActions.some((p) => actionMatches(p, action))
          ? authenticated
          : { reject: `identity policy does not allow ${action}` };
      if ("reject" in caller) {
        return send(
          403,
          { Message: FORBIDDEN_MESSAGE },
          { "x-amzn-errortype": "AccessDeniedException", "x-keyshift-local-reason": caller.reject },
        );
      }
      const result = await opts.handler(
        functionUrlEvent(req, url, body, caller),
        lambdaContext(opts.functionName),
      );
      send(
        result.statusCode ?? 200,
        typeof result.body === "string" ? result.body : "",
        (result.headers ?? {}) as Record<string, string>,
      );
    } catch {
      // The function failed without an answer: a function URL reports that as a bad gateway.
      send(502, { Message: "Internal Server Error" });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The payload v2 event a function URL delivers (headers lowercased, repeated ones comma-joined). */
function functionUrlEvent(
  req: IncomingMessage,
  url: URL,
  body: string,
  caller: Authenticated,
): APIGatewayProxyEventV2WithIAMAuthorizer {
  const now = new Date();
  const query = Object.fromEntries(url.searchParams);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers: Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]),
    ),
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: URL_ID,
      authorizer: {
        iam: {
          accessKey: caller.accessKeyId,
          accountId: caller.accountId,
          callerId: caller.userId,
          cognitoIdentity: null as never,
          principalOrgId: null as never,
          userArn: caller.userArn,
          userId: caller.userId,
        },
      },
      domainName: `${URL_ID}.lambda-url.local.on.aws`,
      domainPrefix: URL_ID,
      http: {
        method: req.method ?? "GET",
        path: url.pathname,
        protocol: "HTTP/1.1",
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: String(req.headers["user-agent"] ?? ""),
      },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded: false,
  };
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** SigV4 as Lambda checks it for an AWS_IAM function URL; the reason of a refusal stays local. */
type Authenticated = {
  accessKeyId: string;
  accountId: string;
  userArn: string;
  userId: string;
  allowedActions: readonly string[];
};

async function authenticate(
  req: IncomingMessage,
  url: URL,
  body: string,
  iam: LocalIam,
  region: string,
): Promise<Authenticated | { reject: string }> {
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) return { reject: "missing or malformed Authorization header" };
  if (auth.service !== SERVICE || auth.region !== region) {
    return { reject: `credential scope must be region ${region} and service ${SERVICE}` };
  }
  const principal = iam.lookup(auth.accessKeyId);
  if (!principal) return { reject: "unknown access key" };
  const date = parseAmzDate(String(req.headers["x-amz-date"] ?? ""));
  if (!date || Math.abs(Date.now() - date.getTime()) > MAX_SKEW_MS) {
    return { reject: "x-amz-date missing or more than 15 minutes off" };
  }
  if (req.headers["x-amz-security-token"] !== principal.sessionToken) {
    return { reject: "session token does not match the access key" };
  }
  // The signature covers the payload only through its hash: a hash header that does not match the
  // body actually received must fail, or a signed request could carry any body.
  const claimedHash = req.headers["x-amz-content-sha256"];
  if (claimedHash !== undefined && claimedHash !== createHash("sha256").update(body, "utf8").digest("hex")) {
    return { reject: "x-amz-content-sha256 does not match the body" };
  }
  const signedHeaders: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    if (name === "host") continue;
    const value = req.headers[name];
    if (value !== undefined) signedHeaders[name] = String(value);
  }
  const expected = await signRequest(
    { method: req.method ?? "POST", url, headers: signedHeaders, body },
    {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: principal.secretAccessKey,
      sessionToken: principal.sessionToken,
    },
    region,
    date,
    new Set(auth.signedHeaders),
  );
  const presented = Buffer.from(auth.signature);
  const computed = Buffer.from(parseAuthorization(expected.authorization)?.signature ?? "");
  if (presented.length !== computed.length || !timingSafeEqual(presented, computed)) {
    return { reject: "signature does not match" };
  }
  return { accessKeyId: auth.accessKeyId, ...principal };
}
