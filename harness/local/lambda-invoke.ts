import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Context } from "aws-lambda";
import { LOCAL_ACCOUNT } from "./definition";
import { lambdaContext } from "./lambda-context";
import type { LocalIam } from "./local-iam";
import { actionMatches } from "./secrets-manager/resource-policy";
import { verifySigV4 } from "./sigv4-verify";

/** A handler as Lambda runs it: the event is the Invoke's payload, parsed as JSON. */
export type InvokedHandler = (event: unknown, context: Context) => Promise<unknown>;

export interface LocalLambda {
  endpoint: string;
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
/** Lambda's limit on a synchronous invocation's request payload. */
const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * The local Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`, restJson1), for the
 * functions a keyshift function invokes itself (the operator API → ProveDeleted). Like the service:
 * SigV4 (service `lambda`) against `LocalIam`, then the caller's identity policy must allow
 * `lambda:InvokeFunction` (else 403 AccessDeniedException, the function never runs); an unknown
 * function is 404 ResourceNotFoundException; `RequestResponse` only. The answer is the handler's
 * result as JSON; a handler that throws is still a 200, with `X-Amz-Function-Error: Unhandled` and
 * `{errorType, errorMessage, trace}` as the body — what the SDK hands back as `FunctionError`.
 */
export async function startLocalLambda(opts: {
  iam: LocalIam;
  region: string;
  /** By function name: the handler and the logical id its AWS calls are attributed to. */
  functions: Record<string, InvokedHandler>;
}): Promise<LocalLambda> {
  const server = createServer(async (req, res) => {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        "content-type": "application/json",
        "x-amzn-requestid": randomUUID(),
        ...headers,
      });
      res.end(JSON.stringify(body));
    };
    const refuse = (status: number, type: string, message: string) =>
      send(status, { Type: "User", Message: message }, { "x-amzn-errortype": type });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_PAYLOAD_BYTES)
        return refuse(
          413,
          "RequestTooLargeException",
          "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
        );
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
    const caller = await verifySigV4(
      { method: req.method ?? "POST", url, headers: req.headers, body },
      { service: "lambda", region: opts.region },
      (accessKeyId) => opts.iam.lookup(accessKeyId),
    );
    if ("reject" in caller)
      return refuse(
        403,
        caller.reject === "signature" ? "InvalidSignatureException" : "UnrecognizedClientException",
        caller.message,
      );
    const name = decodeURIComponent(INVOKE_PATH.exec(url.pathname)?.[1] ?? "");
    const arn = `arn:aws:lambda:${opts.region}:${LOCAL_ACCOUNT}:function:${name}`;
    if (!caller.principal.allowedActions.some((p) => actionMatches(p, "lambda:InvokeFunction"))) {
      return refuse(
        403,
        "AccessDeniedException",
        `User: ${caller.principal.userArn} is not authorized to perform: lambda:InvokeFunction on resource: ${arn} because no identity-based policy allows the lambda:InvokeFunction action`,
      );
    }
    const handler = req.method === "POST" ? opts.functions[name] : undefined;
    if (!handler) return refuse(404, "ResourceNotFoundException", `Function not found: ${arn}`);
    const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
    if (type !== "RequestResponse") {
      return refuse(
        400,
        "InvalidParameterValueException",
        `the local Lambda runs RequestResponse only, not ${type}`,
      );
    }
    let event: unknown;
    try {
      event = body === "" ? {} : JSON.parse(body);
    } catch {
      return refuse(400, "InvalidRequestContentException", "Could not parse request body into json");
    }
    try {
      const result = await handler(event, lambdaContext(name));
      send(200, result ?? null, { "x-amz-executed-version": "$LATEST" });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      send(
        200,
        { errorType: error.name, errorMessage: error.message, trace: [] },
        { "x-amz-function-error": "Unhandled", "x-amz-executed-version": "$LATEST" },
      );
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
