import type { IncomingMessage, ServerResponse } from "node:http";
import { type ExchangeEndpoint, FaultPlan, type FaultSpec } from "../faults";
import { errorBody, readBody, SimulatorError, sendJson } from "../http-util";
import { RequestLog, type RequestLogEntry } from "../request-log";
import { Delays, serveSimulator } from "../sim-server";
import { AccountStore } from "./accounts";
import { authenticate, NonceCache } from "./auth";
import { handleControlPlane } from "./control-plane";
import { handleRoute, matchRoute } from "./routes";
import { SIGNATURE_HEADERS } from "./signing";

export type { ExchangeEndpoint, FaultKind, FaultSpec } from "../faults";
export type { RequestLogEntry } from "../request-log";

export interface SimulatedKey {
  keyId: string;
  label: string;
  permissions: string[];
  status: "active" | "disabled" | "removed";
  createdAt: string;
  removedAt?: string;
}

/**
 * A simulated exchange key-management API over real HTTP: HMAC-signed requests, an active-key
 * limit per account, deterministic fault injection and a request log.
 */
export interface ExchangeSimulator {
  url: string;
  createAccount(
    account: string,
    opts?: { maxActiveKeys?: number },
  ): { adminKeyId: string; adminSecret: string };
  /** Test/bootstrap helper: create a trading key directly (like a human on the exchange website). */
  seedKey(
    account: string,
    input: { label: string; permissions: string[] },
  ): { keyId: string; secret: string };
  setFault(endpoint: ExchangeEndpoint, spec: FaultSpec): void;
  clearFaults(): void;
  requestLog(): RequestLogEntry[];
  keys(account: string): SimulatedKey[];
  close(): Promise<void>;
}

export interface ExchangeSimulatorOptions {
  port?: number;
  host?: string;
  /** Seed of the fault PRNGs; default 1. */
  seed?: number;
  /** Default active-key limit of new accounts; default 2. */
  maxActiveKeys?: number;
  /** Accepted distance between a request's timestamp and the simulator's clock; default 30 s. */
  clockSkewToleranceMs?: number;
  /** How long a `timeout` fault holds a request before dropping the connection; default 10 s. */
  timeoutMs?: number;
}

/** Starts the simulator on `host:port` (default 127.0.0.1 and a free port). */
export async function startExchangeSimulator(
  opts: ExchangeSimulatorOptions = {},
): Promise<ExchangeSimulator> {
  const toleranceMs = opts.clockSkewToleranceMs ?? 30_000;
  const holdMs = opts.timeoutMs ?? 10_000;
  const store = new AccountStore(opts.maxActiveKeys ?? 2);
  const nonces = new NonceCache(toleranceMs);
  const faults = new FaultPlan(opts.seed ?? 1);
  const log = new RequestLog(store);
  const delays = new Delays();

  const respond = (
    entry: RequestLogEntry,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers = {},
  ) => {
    entry.status = res.destroyed ? 0 : status;
    sendJson(res, status, body, headers);
  };

  async function handleExchange(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const method = req.method ?? "GET";
    const pathWithQuery = req.url ?? "/";
    const claimedKey = req.headers[SIGNATURE_HEADERS.keyId];
    const route = matchRouteSafe(method, pathname);
    const entry = log.begin({
      endpoint: route?.endpoint ?? "unknown",
      method,
      path: pathWithQuery,
      ...(typeof claimedKey === "string" ? { keyId: claimedKey } : {}),
    });
    try {
      const body = await readBody(req);
      if (!route) throw new SimulatorError(404, "ROUTE_NOT_FOUND", `no route ${method} ${pathname}`);
      const decision = faults.decide(route.endpoint);
      // Latency is not cancelled when the client gives up: like a real exchange, the call still
      // takes effect after a client-side timeout, which is the ambiguous outcome callers must handle.
      if (decision.latencyMs > 0) await delays.start(decision.latencyMs).done;
      // Injected faults sit in front of authentication and the operation: the call has no effect.
      switch (decision.fault) {
        case "4xx":
          entry.fault = decision.fault;
          return respond(entry, res, 400, errorBody("INJECTED", "injected client error"));
        case "5xx":
          entry.fault = decision.fault;
          return respond(entry, res, 503, errorBody("INJECTED_UNAVAILABLE", "injected service unavailable"));
        case "429":
          entry.fault = decision.fault;
          return respond(entry, res, 429, errorBody("RATE_LIMITED", "injected rate limit"), {
            "retry-after": "1",
          });
        case "timeout": {
          entry.fault = decision.fault;
          return delays.holdThenDrop(res, holdMs);
        }
      }
      const caller = authenticate(
        { headers: req.headers, method, pathWithQuery, body },
        store,
        nonces,
        toleranceMs,
        Date.now(),
      );
      const result = handleRoute(route, caller, body, store);
      if (decision.fault === "5xx-after-effect") {
        entry.fault = decision.fault;
        return respond(entry, res, 503, errorBody("INJECTED_UNAVAILABLE", "injected service unavailable"));
      }
      return respond(entry, res, result.status, result.body);
    } catch (err) {
      if (err instanceof SimulatorError) {
        // With `5xx-after-effect` a failed operation is answered as is: there was no effect to hide.
        return respond(entry, res, err.status, errorBody(err.code, err.message), err.headers);
      }
      return respond(entry, res, 500, errorBody("INTERNAL", "internal simulator error"));
    }
  }

  const served = await serveSimulator({
    port: opts.port,
    host: opts.host,
    api: handleExchange,
    controlPlane: (req, res, pathname) => handleControlPlane(req, res, pathname, sim),
    delays,
  });

  const sim: ExchangeSimulator = {
    url: served.url,
    createAccount: (account, accountOpts) => store.createAccount(account, accountOpts),
    seedKey: (account, input) => {
      const key = store.createKey(account, input);
      return { keyId: key.keyId, secret: key.secret };
    },
    setFault: (endpoint, spec) => faults.set(endpoint, spec),
    clearFaults: () => faults.clear(),
    requestLog: () => log.snapshot(),
    keys: (account) =>
      store.allKeys(account).map((key) => ({
        keyId: key.keyId,
        label: key.label,
        permissions: [...key.permissions],
        status: key.status,
        createdAt: key.createdAt,
        ...(key.removedAt ? { removedAt: key.removedAt } : {}),
      })),
    close: served.close,
  };
  return sim;
}

function matchRouteSafe(method: string, pathname: string) {
  try {
    return matchRoute(method, pathname);
  } catch {
    return undefined;
  }
}
