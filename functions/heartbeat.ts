import middy from "@middy/core";
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { loadConfig } from "../src/commons/config";
import { buildDeps } from "../src/commons/deps";
import { logger } from "../src/commons/logger";
import { stepLogging } from "../src/commons/middleware";
import { heartbeatBodySchema, parseOrThrow } from "../src/commons/schemas";
import { InvalidInputError, PrincipalNotAllowedError, sanitizeErrorMessage } from "../src/core/errors";
import type { Deps } from "../src/core/use-cases/deps";
import { heartbeat } from "../src/core/use-cases/heartbeat";

const deps = buildDeps(loadConfig());

/** A heartbeat body is three short strings; anything bigger is not one. */
const MAX_BODY_BYTES = 4096;

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown): Result => ({
  statusCode,
  headers: { "content-type": "application/json", "cache-control": "no-store" },
  body: JSON.stringify(body),
});

/**
 * POST /heartbeats (HTTP API, AWS_IAM authorization). The consumer is whoever signed the request:
 * API Gateway has verified the SigV4 signature and puts the principal in the request context.
 * Malformed input gets a 4xx naming the problem and writes nothing.
 */
export async function heartbeatRoute(
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  d: Deps = deps,
): Promise<Result> {
  const callerArn = event.requestContext?.authorizer?.iam?.userArn;
  if (!callerArn) return json(403, { error: "Forbidden", message: "no IAM principal on the request" });
  try {
    const raw = event.body
      ? event.isBase64Encoded
        ? Buffer.from(event.body, "base64").toString("utf8")
        : event.body
      : "";
    if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
      return json(413, { error: "PayloadTooLarge", message: `body must be at most ${MAX_BODY_BYTES} bytes` });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new InvalidInputError("body must be a JSON object {secretId, fingerprint, instanceId}");
    }
    const input = parseOrThrow(heartbeatBodySchema, body, "heartbeat");
    return json(200, await heartbeat({ ...input, callerArn }, d));
  } catch (err) {
    if (err instanceof InvalidInputError) return json(400, { error: "InvalidInput", message: err.message });
    if (err instanceof PrincipalNotAllowedError)
      return json(403, { error: "Forbidden", message: err.message });
    logger.error("heartbeat failed", { errorName: (err as Error).name, error: sanitizeErrorMessage(err) });
    return json(500, { error: "InternalError", message: "heartbeat not recorded; retry" });
  }
}

export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer, Result>()
  .use(stepLogging("heartbeat"))
  .handler((event) => heartbeatRoute(event));
