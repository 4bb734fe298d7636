/**
 * A local Secrets Manager speaking the AWS JSON 1.1 protocol, so the real
 * `@aws-sdk/client-secrets-manager` works against it unchanged:
 * `POST /` with `x-amz-target: secretsmanager.<Operation>` and a JSON body; success is 200 +
 * JSON, failure a 4xx/5xx with `{"__type": …, "message": …}`. Request signatures are not
 * checked. Nothing is logged: requests carry secret values.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ServiceError, serializationError, unknownOperation } from "./errors";
import { loadState, saveState } from "./persistence";
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
};

const TARGET_PREFIX = "secretsmanager.";
/** Far above the largest valid request (a 64 KiB value, JSON-escaped); stops runaway bodies. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export async function startSecretsManagerEmulator(
  options: SecretsManagerEmulatorOptions = {},
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

  const server = createServer((request, response) => {
    void handle(store, stateFile, request, response);
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

async function handle(
  store: SecretsStore,
  stateFile: string | undefined,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const requestId = randomUUID();
  let status = 200;
  let payload: unknown;
  try {
    const body = await readBody(request);
    payload = dispatch(store, request, body);
  } catch (error) {
    const failure = error instanceof ServiceError ? error : internalError();
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
}

function dispatch(store: SecretsStore, request: IncomingMessage, body: Buffer): Output {
  const target = request.headers["x-amz-target"];
  const operation =
    request.method === "POST" && typeof target === "string" && target.startsWith(TARGET_PREFIX)
      ? OPERATIONS[target.slice(TARGET_PREFIX.length)]
      : undefined;
  if (!operation) throw unknownOperation();
  const input = parseInput(body);
  store.purgeExpired();
  return operation(store, input);
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
