import type { IncomingMessage } from "node:http";
import { errorBody, SimulatorError } from "../http-util";
import { RequestLog } from "../request-log";
import { type Answer, type AnsweredFault, type ExchangeCall, serveExchange } from "../sim-server";
import { AccountStore } from "./accounts";
import { authenticate, NonceCache } from "./auth";
import { handleControlPlane } from "./control-plane";
import { handleRoute, matchRoute } from "./routes";
import { SIGNATURE_HEADERS } from "./signing";
import type { ExchangeSimulator } from "./types";

export type { ExchangeEndpoint, FaultKind, FaultSpec } from "../faults";
export type { RequestLogEntry } from "../request-log";
export type { ExchangeSimulator, SimulatedKey } from "./types";

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

/** keyshift's own look of an injected fault: `{error:{code,message}}`, a `retry-after` on 429. */
const FAULTS: Record<AnsweredFault, Answer> = {
  "4xx": { status: 400, body: errorBody("INJECTED", "injected client error") },
  "5xx": { status: 503, body: errorBody("INJECTED_UNAVAILABLE", "injected service unavailable") },
  "5xx-after-effect": {
    status: 503,
    body: errorBody("INJECTED_UNAVAILABLE", "injected service unavailable"),
  },
  "429": {
    status: 429,
    body: errorBody("RATE_LIMITED", "injected rate limit"),
    headers: { "retry-after": "1" },
  },
};

/** Starts the simulator on `host:port` (default 127.0.0.1 and a free port). */
export async function startExchangeSimulator(
  opts: ExchangeSimulatorOptions = {},
): Promise<ExchangeSimulator> {
  const toleranceMs = opts.clockSkewToleranceMs ?? 30_000;
  const store = new AccountStore(opts.maxActiveKeys ?? 2);
  const nonces = new NonceCache(toleranceMs);

  function open(req: IncomingMessage, pathname: string): ExchangeCall {
    const method = req.method ?? "GET";
    const route = matchRouteSafe(method, pathname);
    const claimedKey = req.headers[SIGNATURE_HEADERS.keyId];
    return {
      endpoint: route?.endpoint,
      keyId: typeof claimedKey === "string" ? claimedKey : undefined,
      accept: () => {
        if (!route) throw new SimulatorError(404, "ROUTE_NOT_FOUND", `no route ${method} ${pathname}`);
        return route.endpoint;
      },
      run: (body) => {
        const pathWithQuery = req.url ?? "/";
        const caller = authenticate(
          { headers: req.headers, method, pathWithQuery, body },
          store,
          nonces,
          toleranceMs,
          Date.now(),
        );
        return handleRoute(route as NonNullable<typeof route>, caller, body, store);
      },
      fault: (kind) => FAULTS[kind],
      refusal: (err) =>
        err instanceof SimulatorError
          ? { status: err.status, body: errorBody(err.code, err.message), headers: err.headers }
          : { status: 500, body: errorBody("INTERNAL", "internal simulator error") },
    };
  }

  const served = await serveExchange({
    port: opts.port,
    host: opts.host,
    seed: opts.seed,
    timeoutMs: opts.timeoutMs,
    log: new RequestLog(store),
    open,
    controlPlane: (req, res, pathname) => handleControlPlane(req, res, pathname, sim),
  });

  const sim: ExchangeSimulator = {
    ...served,
    createAccount: (account, accountOpts) => store.createAccount(account, accountOpts),
    seedKey: (account, input) => {
      const key = store.createKey(account, input);
      return { keyId: key.keyId, secret: key.secret };
    },
    keys: (account) =>
      store.allKeys(account).map((key) => ({
        keyId: key.keyId,
        label: key.label,
        permissions: [...key.permissions],
        status: key.status,
        createdAt: key.createdAt,
        ...(key.removedAt ? { removedAt: key.removedAt } : {}),
      })),
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
