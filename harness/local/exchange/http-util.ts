import type { IncomingMessage, ServerResponse } from "node:http";

/** Bodies of the key-management API are tiny; anything bigger is a client bug. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * A refusal the simulator answers with `{error:{code,message}}`. Messages name accounts and key
 * ids only, never a secret.
 */
export class SimulatorError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "SimulatorError";
  }
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) {
      throw new SimulatorError(413, "PAYLOAD_TOO_LARGE", `request body exceeds ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function parseJsonObject(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = body === "" ? {} : JSON.parse(body);
  } catch {
    throw new SimulatorError(400, "INVALID_JSON", "request body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SimulatorError(400, "INVALID_REQUEST", "request body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** Writes a JSON response unless the client is already gone (aborted or timed out). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const payload = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(payload ? { "content-type": "application/json" } : {}),
    "content-length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}
