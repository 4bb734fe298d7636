import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { lambdaContext } from "./lambda-context";
import type { LocalIam } from "./local-iam";
import { parseAmzDate, parseAuthorization, SERVICE, signRequest } from "./sigv4";

/** AWS rejects SigV4 requests whose date is more than 15 minutes off. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_BODY_BYTES = 64 * 1024;
const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.";

type Route = (
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LocalHttpApi {
  url: string;
  close(): Promise<void>;
}

/**
 * The local HTTP API: what API Gateway does for an `AWS_IAM` route. It checks the SigV4 signature
 * against the caller's (local) credentials, rejects like API Gateway does (403 with a message), and
 * hands the real handler an HTTP API v2 event whose `requestContext.authorizer.iam` names the caller.
 */
export async function startLocalHttpApi(opts: {
  iam: LocalIam;
  region: string;
  routes: Record<string, Route>;
}): Promise<LocalHttpApi> {
  const server = createServer(async (req, res) => {
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(body);
    };
    try {
      const body = await readBody(req);
      if (body === undefined) return send(413, JSON.stringify({ message: "Request Entity Too Large" }));
      const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
      const routeKey = `${req.method} ${url.pathname}`;
      const route = opts.routes[routeKey];
      if (!route) return send(404, JSON.stringify({ message: "Not Found" }));
      const caller = await authenticate(req, url, body, opts.iam, opts.region);
      if ("reject" in caller) return send(403, JSON.stringify({ message: caller.reject }));
      const now = new Date();
      const event: APIGatewayProxyEventV2WithIAMAuthorizer = {
        version: "2.0",
        routeKey,
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        requestContext: {
          accountId: caller.accountId,
          apiId: "local",
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
          domainName: url.host,
          domainPrefix: "local",
          http: {
            method: req.method ?? "POST",
            path: url.pathname,
            protocol: "HTTP/1.1",
            sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
            userAgent: String(req.headers["user-agent"] ?? ""),
          },
          requestId: randomUUID(),
          routeKey,
          stage: "$default",
          time: now.toUTCString(),
          timeEpoch: now.getTime(),
        },
        body,
        isBase64Encoded: false,
      };
      const result = await route(event, lambdaContext(routeKey));
      send(
        result.statusCode ?? 200,
        typeof result.body === "string" ? result.body : "",
        (result.headers ?? {}) as Record<string, string>,
      );
    } catch {
      send(500, JSON.stringify({ message: "Internal Server Error" }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
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

async function authenticate(req: IncomingMessage, url: URL, body: string, iam: LocalIam, region: string) {
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) return { reject: "Missing Authentication Token" };
  if (auth.service !== SERVICE || auth.region !== region) {
    return { reject: `Credential should be scoped to a valid region and service ${SERVICE}` };
  }
  const principal = iam.lookup(auth.accessKeyId);
  if (!principal) return { reject: "The security token included in the request is invalid." };
  const date = parseAmzDate(String(req.headers["x-amz-date"] ?? ""));
  if (!date || Math.abs(Date.now() - date.getTime()) > MAX_SKEW_MS) {
    return { reject: "Signature expired or x-amz-date missing." };
  }
  if (req.headers["x-amz-security-token"] !== principal.sessionToken) {
    return { reject: "The security token included in the request is invalid." };
  }
  // The signature covers the payload only through its hash: a hash header that does not match the
  // body actually received must fail, or a signed request could carry any body.
  const claimedHash = req.headers["x-amz-content-sha256"];
  if (claimedHash !== undefined && claimedHash !== createHash("sha256").update(body, "utf8").digest("hex")) {
    return { reject: SIGNATURE_MISMATCH };
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
    return { reject: SIGNATURE_MISMATCH };
  }
  return { accessKeyId: auth.accessKeyId, ...principal };
}
