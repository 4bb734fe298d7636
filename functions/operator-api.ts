import middy from "@middy/core";
import type { APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { executeEnvelope, loadOperatorApiConfig } from "../src/cli/operator-api";
import { loadConfig } from "../src/commons/config";
import { type AppDeps, buildDeps } from "../src/commons/deps";
import { parseJsonStrict } from "../src/commons/json";
import { logger } from "../src/commons/logger";
import { operatorApiProver } from "../src/commons/wiring-prover";
import { InvalidInputError } from "../src/core/errors";

const appConfig = loadConfig();
// This role is no reader of key values: `keys confirm-deleted` asks the prove-deleted function.
const deps: AppDeps = { ...buildDeps(appConfig), prover: operatorApiProver(appConfig) };
const config = loadOperatorApiConfig();

export const OPERATOR_API_PATH = "/commands";
const MAX_BODY_BYTES = 64 * 1024;
type Result = APIGatewayProxyStructuredResultV2;

const json = (statusCode: number, body: unknown): Result => ({
  statusCode,
  headers: { "content-type": "application/json", "cache-control": "no-store" },
  body: JSON.stringify(body),
});

/**
 * POST /commands on the operator API's function URL (AWS_IAM auth): Lambda verified the SigV4
 * signature and names the caller in `requestContext.authorizer.iam`; that principal is the actor
 * of everything the command writes. The body is one command envelope (src/cli/operator-api.ts);
 * the answer is the command's exit code and output, whatever it was.
 */
export async function operatorApiRoute(
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  d: AppDeps = deps,
): Promise<Result> {
  const callerArn = event.requestContext?.authorizer?.iam?.userArn;
  if (!callerArn) return json(403, { error: "Forbidden", message: "no IAM principal on the request" });
  const path = event.rawPath ?? event.requestContext?.http?.path;
  if (path !== OPERATOR_API_PATH || event.requestContext?.http?.method !== "POST") {
    return json(404, { error: "NotFound", message: `POST ${OPERATOR_API_PATH} only` });
  }
  const raw = event.body
    ? Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8").toString("utf8")
    : "";
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) return json(413, { error: "PayloadTooLarge" });
  let body: unknown;
  try {
    body = parseJsonStrict(
      raw,
      "body must be a command envelope {command, args, files?, stdin?, note?, idempotencyKey}",
    );
  } catch (err) {
    if (err instanceof InvalidInputError) return json(400, { error: "InvalidInput", message: err.message });
    throw err;
  }
  const answer = await executeEnvelope(body, callerArn, { deps: d, env: process.env, config });
  const command = (body as { command?: unknown } | null)?.command;
  logger.info("operator command", {
    principal: callerArn,
    command: typeof command === "string" ? command.slice(0, 64) : null,
    code: answer.code,
  });
  return json(200, answer);
}

export const handler = middy<APIGatewayProxyEventV2WithIAMAuthorizer, Result>()
  .before((request) => {
    logger.addContext(request.context);
  })
  .handler((event) => operatorApiRoute(event));
