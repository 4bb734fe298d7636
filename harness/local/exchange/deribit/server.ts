import type { IncomingMessage } from "node:http";
import { parseDeribitAuthorization } from "../../../../src/adapters/exchange/deribit/signing";
import { callerIp } from "../caller-address";
import { SimulatorError } from "../http-util";
import { RequestLog } from "../request-log";
import { type Answer, type AnsweredFault, type ExchangeCall, serveExchange } from "../sim-server";
import { DeribitAccountStore, type SimKey } from "./accounts";
import { DeribitActivityBook } from "./activity-log";
import { authenticate, NonceBook } from "./auth";
import { handleDeribitControlPlane } from "./control-plane";
import { METHODS, runMethod } from "./methods";
import { CODE, RpcError } from "./rpc-error";
import { SecurityKeyBook } from "./security-keys";
import type { DeribitSimulatedKey, DeribitSimulator, DeribitSimulatorOptions } from "./types";

const API_PATH = /^\/api\/v2\/((?:public|private)\/[a-z_]+)$/;
/** What a client_id looks like here; anything else claimed as one stays out of the request log. */
const CLIENT_ID = /^[A-Za-z0-9_-]{4,16}$/;

type Payload = { result: unknown } | { error: { code: number; message: string; data?: unknown } };

/** Deribit's look of an injected fault: its JSON-RPC error codes, with the reason `injected`. */
const FAULTS: Record<AnsweredFault, { status: number; payload: Payload }> = {
  "4xx": { status: 400, payload: failure(CODE.badRequest, "bad_request", "injected") },
  "5xx": {
    status: 503,
    payload: failure(CODE.temporarilyUnavailable, "temporarily_unavailable", "injected"),
  },
  "5xx-after-effect": {
    status: 503,
    payload: failure(CODE.temporarilyUnavailable, "temporarily_unavailable", "injected"),
  },
  "429": { status: 429, payload: failure(CODE.tooManyRequests, "too_many_requests", "injected") },
};

/** Starts the Deribit simulator on `host:port` (default 127.0.0.1 and a free port). */
export async function startDeribitSimulator(opts: DeribitSimulatorOptions = {}): Promise<DeribitSimulator> {
  const now = opts.now ?? Date.now;
  const store = new DeribitAccountStore(now);
  const nonces = new NonceBook();
  const securityKeys = new SecurityKeyBook(now, "test.deribit.com");
  const activity = new DeribitActivityBook(store, now);

  function open(req: IncomingMessage, pathname: string): ExchangeCall {
    const usIn = now() * 1000;
    const httpMethod = req.method ?? "GET";
    const uri = req.url ?? "/";
    const name = API_PATH.exec(pathname)?.[1];
    const spec = name ? METHODS[name] : undefined;
    // The one public method served: a login, recorded in the account's access log.
    const login = name === "public/auth";
    const authorization = header(req, "authorization");
    let request: ReturnType<typeof parseRequest> | undefined;
    // Every answer is a JSON-RPC envelope echoing the request's id, with Deribit's timing fields;
    // a POST refused before its id was known answers `id: null` (JSON-RPC 2.0, section 5).
    const reply = (status: number, payload: Payload): Answer => {
      const usOut = now() * 1000;
      const id = request === undefined && httpMethod === "POST" ? null : request?.id;
      const envelope = { jsonrpc: "2.0", ...(id === undefined ? {} : { id }), ...payload };
      return { status, body: { ...envelope, usIn, usOut, usDiff: usOut - usIn, testnet: true } };
    };
    return {
      endpoint: spec?.endpoint ?? (login ? "account" : undefined),
      keyId: parseDeribitAuthorization(authorization)?.clientId,
      accept: (body) => {
        request = parseRequest(httpMethod, uri, body, name);
        if (login) return "account";
        if (!name || !spec) throw new RpcError(CODE.methodNotFound, "Method not found");
        return spec.endpoint;
      },
      run: (body) => {
        if (login) return reply(200, { result: activity.auth(request?.params ?? {}, callerIp(req)) });
        const caller: SimKey = authenticate(
          { authorization, method: httpMethod, uri, body, callerIp: callerIp(req) },
          store,
          nonces,
          now(),
        );
        const params = request?.params ?? {};
        const ctx = { caller, params, store, activity, callerIp: callerIp(req) };
        return reply(200, { result: runMethod(name ?? "", ctx, securityKeys) });
      },
      fault: (kind) => reply(FAULTS[kind].status, FAULTS[kind].payload),
      refusal: (err) => {
        if (err instanceof RpcError) {
          return reply(err.httpStatus, {
            error: { code: err.code, message: err.message, ...(err.data ? { data: err.data } : {}) },
          });
        }
        if (err instanceof SimulatorError)
          return reply(400, failure(CODE.badRequest, "bad_request", err.message));
        return reply(500, failure(11094, "internal_server_error", "internal simulator error"));
      },
    };
  }

  const served = await serveExchange({
    port: opts.port,
    host: opts.host,
    seed: opts.seed,
    timeoutMs: opts.timeoutMs,
    log: new RequestLog(store, CLIENT_ID),
    open,
    controlPlane: (req, res, pathname) => handleDeribitControlPlane(req, res, pathname, sim),
  });

  const sim: DeribitSimulator = {
    ...served,
    createAccount: (account, accountOpts) => store.createAccount(account, accountOpts),
    seedKey: (account, input) => {
      const key = store.seedKey(account, input);
      return { keyId: key.clientId, secret: key.clientSecret };
    },
    requireSecurityKey: (account, totpSeed) => {
      const record = store.account(account);
      if (totpSeed) record.totpSeed = totpSeed;
      else delete record.totpSeed;
    },
    activity,
    keys: (account) =>
      store
        .allKeys(account)
        .filter((key) => !key.admin)
        .map(toSimulatedKey),
  };
  return sim;
}

/**
 * The call's params: a JSON-RPC 2.0 request object as the POST body (its `method`, if given,
 * must be the path's), or the query string of a GET (strings; repeated names become lists).
 */
function parseRequest(
  httpMethod: string,
  uri: string,
  body: string,
  name: string | undefined,
): { id?: number | string; params: Record<string, unknown> } {
  if (httpMethod === "GET") {
    const params: Record<string, unknown> = {};
    for (const [key, value] of new URL(uri, "http://deribit.invalid").searchParams) {
      const seen = params[key];
      params[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
    }
    return { params };
  }
  if (httpMethod !== "POST")
    throw new RpcError(CODE.invalidRequest, "Invalid Request", { reason: "use GET or POST" });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new RpcError(CODE.parseError, "Parse error");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new RpcError(CODE.invalidRequest, "Invalid Request", {
      reason: "batches and non-objects are not supported",
    });
  }
  const request = parsed as Record<string, unknown>;
  const id = request.id;
  // Deribit rejects notification-style requests (no `id`); the code is unpublished, -32600 is
  // JSON-RPC 2.0's for an invalid Request object (docs/exchanges.md, "Requests without id").
  if (id === undefined || id === null) {
    throw new RpcError(CODE.invalidRequest, "Invalid Request", {
      reason: "requests without id (notifications) are not supported",
    });
  }
  if (typeof id !== "number" && typeof id !== "string") {
    throw new RpcError(CODE.invalidRequest, "Invalid Request", { reason: "id must be a number or a string" });
  }
  if (request.jsonrpc !== "2.0")
    throw new RpcError(CODE.invalidRequest, "Invalid Request", { reason: 'jsonrpc must be "2.0"' });
  if (request.method !== undefined && request.method !== name) {
    throw new RpcError(CODE.invalidRequest, "Invalid Request", { reason: "method does not match the path" });
  }
  const params = request.params ?? {};
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw new RpcError(CODE.invalidParams, "Invalid params", {
      reason: "only named parameters are supported",
    });
  }
  return { id, params: params as Record<string, unknown> };
}

function failure(code: number, message: string, reason: string): Payload {
  return { error: { code, message, data: { reason } } };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function toSimulatedKey(key: SimKey): DeribitSimulatedKey {
  return {
    keyId: key.clientId,
    id: key.id,
    label: key.name,
    permissions: [...key.scope].sort(),
    ipAllowlist: [...key.ipWhitelist],
    status: key.removed ? "removed" : key.enabled ? "active" : "disabled",
    createdAt: new Date(key.timestamp).toISOString(),
    ...(key.removedAt ? { removedAt: key.removedAt } : {}),
  };
}
