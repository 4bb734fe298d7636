/**
 * A local Secrets Manager speaking the AWS JSON 1.1 protocol, so the real
 * `@aws-sdk/client-secrets-manager` works against it unchanged:
 * `POST /` with `x-amz-target: secretsmanager.<Operation>` and a JSON body; success is 200 +
 * JSON, failure a 4xx/5xx with `{"__type": …, "message": …}`. Nothing is logged: requests carry
 * secret values.
 *
 * Every call is authenticated by its SigV4 signature against the principals in `callers`, then
 * authorized by the secret's resource policy and the caller's identity policy (`authorization.ts`).
 * Each authenticated GetSecretValue, served or refused, is handed to `onCloudTrailEvent` as the
 * CloudTrail event EventBridge would deliver, after the answer went out (as on AWS, where it
 * arrives minutes later); a call refused at authentication has no identity and is not delivered.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { authenticate, authorize, type Caller, type CallerDirectory } from "./authorization";
import { type CloudTrailApiCallEvent, cloudTrailEvent } from "./cloudtrail";
import { ServiceError, serializationError, unknownOperation } from "./errors";
import { loadState, saveState } from "./persistence";
import { deleteResourcePolicy, getResourcePolicy, putResourcePolicy } from "./policy-operations";
import {
  createSecret,
  deleteSecret,
  describeSecret,
  listSecrets,
  restoreSecret,
  tagResource,
  untagResource,
  updateSecret,
} from "./secret-operations";
import { SecretsStore } from "./store";
import type { Input } from "./validation";
import {
  getSecretValue,
  listSecretVersionIds,
  putSecretValue,
  updateSecretVersionStage,
} from "./version-operations";
import type { Output } from "./wire";

export interface SecretsManagerEmulator {
  endpoint: string;
  close(): Promise<void>;
}

export interface SecretsManagerEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Load state from this JSON file at start (if it exists) and persist it after every mutation. */
  stateFile?: string;
  /** Used in ARNs. Default us-east-1. */
  region?: string;
  /** Used in ARNs. Default 123456789012. */
  accountId?: string;
  /**
   * The principals: access keys to callers and their identity policies (the local stack's
   * `LocalIam`). A request signed with any other key is refused.
   */
  callers: CallerDirectory;
  /**
   * Receives the CloudTrail event of every GetSecretValue once the answer is sent. Not awaited, and
   * its failures are swallowed: CloudTrail delivery never slows or fails a call.
   */
  onCloudTrailEvent?: (event: CloudTrailApiCallEvent) => unknown;
}

interface Context {
  store: SecretsStore;
  stateFile: string | undefined;
  callers: CallerDirectory;
  onCloudTrailEvent: SecretsManagerEmulatorOptions["onCloudTrailEvent"];
}

type Operation = (store: SecretsStore, input: Input) => Output;

const OPERATIONS: Record<string, Operation> = {
  CreateSecret: createSecret,
  DescribeSecret: describeSecret,
  UpdateSecret: updateSecret,
  DeleteSecret: deleteSecret,
  RestoreSecret: restoreSecret,
  ListSecrets: listSecrets,
  TagResource: tagResource,
  UntagResource: untagResource,
  GetSecretValue: getSecretValue,
  PutSecretValue: putSecretValue,
  UpdateSecretVersionStage: updateSecretVersionStage,
  ListSecretVersionIds: listSecretVersionIds,
  GetResourcePolicy: getResourcePolicy,
  PutResourcePolicy: putResourcePolicy,
  DeleteResourcePolicy: deleteResourcePolicy,
};

/** The calls whose CloudTrail events are delivered to `onCloudTrailEvent`. */
const TRAILED = new Set(["GetSecretValue"]);

const TARGET_PREFIX = "secretsmanager.";
/** Far above the largest valid request (a 64 KiB value, JSON-escaped); stops runaway bodies. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export async function startSecretsManagerEmulator(
  options: SecretsManagerEmulatorOptions,
): Promise<SecretsManagerEmulator> {
  const store = new SecretsStore({
    region: options.region ?? "us-east-1",
    accountId: options.accountId ?? "123456789012",
  });
  const { stateFile } = options;
  if (stateFile) {
    const snapshot = loadState(stateFile);
    if (snapshot) store.load(snapshot);
  }

  const context: Context = {
    store,
    stateFile,
    callers: options.callers,
    onCloudTrailEvent: options.onCloudTrailEvent,
  };
  const server = createServer((request, response) => {
    void handle(context, request, response);
  });
  const host = options.host ?? "127.0.0.1";
  await listen(server, options.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    endpoint: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; without this, close() waits for them to time out.
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function handle(ctx: Context, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  const { store, stateFile } = ctx;
  const receivedMs = store.now();
  let status = 200;
  let payload: unknown;
  let trailed: { operation: string; input: Input; caller: Caller; error?: ServiceError } | undefined;
  try {
    const body = await readBody(request);
    const { name, operation } = route(request);
    // As AWS's front end: the operation is known, then the caller, before the body is read as input.
    const caller = await authenticate(store.region, request, body.toString("utf8"), ctx.callers);
    const input = parseInput(body);
    store.purgeExpired();
    if (TRAILED.has(name) && ctx.onCloudTrailEvent) trailed = { operation: name, input, caller };
    const denied = authorize(store, caller, name, input);
    if (denied) throw denied;
    payload = operation(store, input);
  } catch (error) {
    const failure = error instanceof ServiceError ? error : internalError();
    if (trailed) trailed.error = failure;
    status = failure.status;
    payload = { __type: failure.type, message: failure.message, Message: failure.message };
  }
  try {
    // Persist whatever changed — including an expiry purge before a refused request — before answering.
    if (store.takeChanged() && stateFile) saveState(stateFile, store.snapshot());
  } catch {
    const failure = internalError();
    status = failure.status;
    payload = { __type: failure.type, message: failure.message, Message: failure.message };
  }
  const text = JSON.stringify(payload);
  response.writeHead(status, {
    "content-type": "application/x-amz-json-1.1",
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": requestId,
  });
  response.end(text);
  if (trailed && ctx.onCloudTrailEvent) {
    const { operation, input, caller, error } = trailed;
    const event = cloudTrailEvent({
      region: store.region,
      accountId: store.accountId,
      eventName: operation,
      requestParameters: trailParameters(input),
      caller,
      error: error && {
        code: error.type === "AccessDeniedException" ? "AccessDenied" : error.type,
        message: error.message,
      },
      requestId,
      sourceIp: request.socket.remoteAddress ?? "127.0.0.1",
      userAgent: String(request.headers["user-agent"] ?? ""),
      atMs: receivedMs,
    });
    void Promise.resolve()
      .then(() => ctx.onCloudTrailEvent?.(event))
      .catch(() => undefined);
  }
}

/** GetSecretValue's parameters as CloudTrail records them: ids and labels, never a value. */
function trailParameters(input: Input): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [member, key] of [
    ["SecretId", "secretId"],
    ["VersionId", "versionId"],
    ["VersionStage", "versionStage"],
  ] as const) {
    if (typeof input[member] === "string") out[key] = input[member];
  }
  return out;
}

function route(request: IncomingMessage): { name: string; operation: Operation } {
  const target = request.headers["x-amz-target"];
  const name =
    request.method === "POST" && typeof target === "string" && target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : "";
  const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
  if (!operation) throw unknownOperation();
  return { name, operation };
}

function parseInput(body: Buffer): Input {
  const text = body.toString("utf8").trim();
  if (text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw serializationError("The request body is not valid JSON.");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw serializationError("The request body must be a JSON object.");
  }
  return parsed as Input;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(serializationError("The request body is too large."));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

const internalError = (): ServiceError =>
  new ServiceError("InternalServiceError", "An error occurred on the server side.", 500);
