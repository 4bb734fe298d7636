import middy from "@middy/core";
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { loadHeartbeatConfig } from "../src/commons/config";
import { buildHeartbeatDeps } from "../src/commons/heartbeat-deps";
import { heartbeatBodySchema, usageHoursOf } from "../src/commons/heartbeat-schema";
import { parseJsonStrict } from "../src/commons/json";
import { logger } from "../src/commons/logger";
import { parseOrThrow } from "../src/commons/parse";
import { type HeartbeatDeps, heartbeat } from "../src/core/consumers/heartbeat";
import { InvalidInputError, PrincipalNotAllowedError, sanitizeErrorMessage } from "../src/core/errors";

const deps = buildHeartbeatDeps(loadHeartbeatConfig());

/** A heartbeat body is three short strings and at most four hours of usage counts (~2.5 KB at worst). */
const MAX_BODY_BYTES = 4096;
export const HEARTBEAT_PATH = "/heartbeats";

type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown, headers: Record<string, string> = {}): Result => ({
  statusCode,
  headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  body: JSON.stringify(body),
});

/**
 * POST /heartbeats on the function URL (AWS_IAM auth, payload v2). The consumer is whoever signed
 * the request: Lambda has verified the SigV4 signature (service `lambda`) and puts the principal in
 * `requestContext.authorizer.iam`. A function URL sends every path and method here, so this checks
 * both. Malformed input gets a 4xx naming the problem and writes nothing.
 */
export async function heartbeatRoute(
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  d: HeartbeatDeps = deps,
): Promise<Result> {
  const callerArn = event.requestContext?.authorizer?.iam?.userArn;
  if (!callerArn) return json(403, { error: "Forbidden", message: "no IAM principal on the request" });
  const path = event.rawPath ?? event.requestContext?.http?.path;
  if (path !== undefined && path !== HEARTBEAT_PATH) {
    return json(404, { error: "NotFound", message: `no such path ${path}: POST ${HEARTBEAT_PATH}` });
  }
  const method = event.requestContext?.http?.method;
  if (method !== undefined && method !== "POST") {
    return json(405, { error: "MethodNotAllowed", message: `use POST ${HEARTBEAT_PATH}` }, { allow: "POST" });
  }
  try {
    const raw = event.body
      ? event.isBase64Encoded
        ? Buffer.from(event.body, "base64").toString("utf8")
        : event.body
      : "";
    if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
      return json(413, { error: "PayloadTooLarge", message: `body must be at most ${MAX_BODY_BYTES} bytes` });
    }
    const body = parseJsonStrict(raw, "body must be a JSON object {secretId, fingerprint, instanceId}");
    const { usage, ...input } = parseOrThrow(heartbeatBodySchema, body, "heartbeat");
    const sourceIp = event.requestContext?.http?.sourceIp;
    return json(200, await heartbeat({ ...input, callerArn, sourceIp, usage: usageHoursOf(usage) }, d));
  } catch (err) {
    if (err instanceof InvalidInputError) return json(400, { error: "InvalidInput", message: err.message });
    if (err instanceof PrincipalNotAllowedError) {
      // Every rejection is counted here (metric filter HeartbeatRejections, alarmed); the audit
      // trail gets them rate-limited, the alert topic only through the alarm.
      logger.warn("heartbeat rejected", { principal: callerArn, reason: err.message });
      return json(403, { error: "Forbidden", message: err.message });
    }
    logger.error("heartbeat failed", { errorName: (err as Error).name, error: sanitizeErrorMessage(err) });
    return json(500, { error: "InternalError", message: "heartbeat not recorded; retry" });
  }
}

// No line per accepted heartbeat: at fleet scale the log would cost more than the heartbeat.
// No early timeout: the route ignores middy's abort signal, so it would only trade Lambda's own
// timeout for middy's error 5 ms sooner — for a timer, a promise and a race on every invocation
// (~14 µs of CPU a heartbeat, measured beside its write: harness/bench/heartbeat-throughput.ts).
export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer, Result>({ timeoutEarlyInMillis: 0 })
  .before((request) => {
    logger.addContext(request.context);
  })
  .handler((event) => heartbeatRoute(event));
