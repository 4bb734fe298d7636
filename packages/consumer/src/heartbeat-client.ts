import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { HeartbeatRejectedError } from "./errors.js";
import type { ConsumerCredentials, ConsumerCredentialsProvider } from "./options.js";
import type { UsageBody } from "./usage.js";

/** The fields of the server's answer the SDK acts on; any other field is ignored. */
export interface HeartbeatAnswer {
  status: string;
  refreshNow: boolean;
  nextHeartbeatSeconds?: number;
  currentFingerprint?: string | null;
  consumerId?: string;
}

export interface HeartbeatBody {
  secretId: string;
  fingerprint: string;
  instanceId: string;
  /** The hours of usage this heartbeat carries (absent: none pending). */
  usage?: UsageBody;
}

/** Longest answer read; a heartbeat answer is a few hundred bytes, anything bigger is not one. */
const MAX_ANSWER_CHARS = 16 * 1024;

/**
 * Sends heartbeats: `POST <endpoint>` with a JSON body, signed with SigV4 for `service` in `region`
 * with the caller's own (usually temporary) credentials. Resolves with the answer of a 2xx, rejects
 * with `HeartbeatRejectedError` carrying the status and the server's message otherwise. A redirect
 * is never followed: the request carries the session token and a signature, and keyshift's endpoint
 * never redirects, so an answer from anywhere but `endpoint` is not a heartbeat answer.
 */
export function heartbeatSender(opts: {
  endpoint: URL;
  region: string;
  service: string;
  credentials: ConsumerCredentials | ConsumerCredentialsProvider;
  fetchImpl: typeof fetch;
}): (body: HeartbeatBody, signal: AbortSignal) => Promise<HeartbeatAnswer> {
  const signer = new SignatureV4({
    credentials: opts.credentials,
    region: opts.region,
    service: opts.service,
    sha256: Sha256,
  });
  const url = opts.endpoint;
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;

  return async (body, signal) => {
    const payload = JSON.stringify(body);
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { host: url.host, "content-type": "application/json" },
      body: payload,
    });
    const res = await opts.fetchImpl(url, {
      method: "POST",
      headers: signed.headers as Record<string, string>,
      body: payload,
      redirect: "manual",
      signal,
    });
    refuseRedirect(res, url);
    const text = (await res.text()).slice(0, MAX_ANSWER_CHARS);
    if (!res.ok) throw new HeartbeatRejectedError(res.status, serverMessage(res.status, text));
    return parseAnswer(res.status, text);
  };
}

/** A 3xx, or an answer a fetch got by following one anyway (a wrapper, a proxy agent), is refused. */
function refuseRedirect(res: Response, endpoint: URL): void {
  const elsewhere = res.redirected || (res.url !== "" && new URL(res.url).origin !== endpoint.origin);
  if (res.status >= 300 && res.status < 400) {
    throw new HeartbeatRejectedError(
      res.status,
      `HTTP ${res.status}: the heartbeat endpoint redirected; not followed (keyshift's never does: check \`endpoint\`)`,
    );
  }
  if (elsewhere) {
    throw new HeartbeatRejectedError(
      res.status,
      "the answer came from another URL than `endpoint` (a redirect was followed); ignored",
    );
  }
}

function parseAnswer(httpStatus: number, text: string): HeartbeatAnswer {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const answer = raw as Record<string, unknown> | undefined;
  if (!answer || typeof answer !== "object" || typeof answer.status !== "string") {
    throw new HeartbeatRejectedError(httpStatus, "answer is not a heartbeat answer (no string `status`)");
  }
  const next = answer.nextHeartbeatSeconds;
  return {
    status: answer.status,
    refreshNow: answer.refreshNow === true,
    nextHeartbeatSeconds: typeof next === "number" && Number.isFinite(next) && next >= 0 ? next : undefined,
    currentFingerprint: typeof answer.currentFingerprint === "string" ? answer.currentFingerprint : null,
    consumerId: typeof answer.consumerId === "string" ? answer.consumerId : undefined,
  };
}

/**
 * The server's explanation: `message` from keyshift and API Gateway, `Message` from a function URL;
 * else the start of the body.
 */
function serverMessage(httpStatus: number, text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown; Message?: unknown; error?: unknown };
    const message = typeof body.message === "string" ? body.message : body.Message;
    if (typeof message === "string") return `HTTP ${httpStatus}: ${message}`;
  } catch {
    // not JSON: fall through
  }
  // Not cut here: `describeError` masks any held value in the whole text first, then cuts.
  return `HTTP ${httpStatus}: ${text || "(empty body)"}`;
}
