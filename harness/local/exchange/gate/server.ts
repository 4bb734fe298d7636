import type { IncomingMessage } from "node:http";
import { GATE_HEADERS } from "../../../../src/adapters/exchange/gate/signing";
import { callerIp } from "../caller-address";
import { SimulatorError } from "../http-util";
import { RequestLog } from "../request-log";
import { type Answer, type AnsweredFault, type ExchangeCall, serveExchange } from "../sim-server";
import { authenticate } from "./auth";
import { handleGateControlPlane } from "./control-plane";
import { errorBody, GateSimError, LABEL } from "./errors";
import { matchRoute, runOperation } from "./routes";
import { API_KEY_FORMAT, GateStore } from "./store";
import type { GateSimulator } from "./types";

export type { GateAccountCredential, GateSeedKeyInput, GateSimKeyView, GateSimulator } from "./types";

export interface GateSimulatorOptions {
  port?: number;
  host?: string;
  /** Seed of the fault PRNGs; default 1. */
  seed?: number;
  /** Keys a sub-account may hold; default 20 (keyshift's assumption: docs/exchanges.md, Gate). */
  maxKeys?: number;
  /** The exchange's clock in ms (timestamp window, `last_access`); default `Date.now`. */
  now?: () => number;
  /** How long a `timeout` fault holds a request before dropping the connection; default 10 s. */
  timeoutMs?: number;
}

const GATEWAY_503 = "<html><body>503 Service Temporarily Unavailable</body></html>";

const faultAnswer = (kind: AnsweredFault): Answer => {
  switch (kind) {
    case "4xx":
      return { status: 403, html: "<html><body>403 Forbidden</body></html>" };
    case "5xx":
    case "5xx-after-effect":
      return { status: 503, html: GATEWAY_503 };
    case "429":
      return {
        status: 429,
        body: errorBody(LABEL.tooMany, "Too many requests"),
        headers: { "retry-after": "1" },
      };
  }
};

function refusal(caught: unknown): Answer {
  const err =
    caught instanceof SimulatorError
      ? new GateSimError(LABEL.invalidBody, "request body is not valid JSON")
      : caught;
  if (err instanceof GateSimError) return { status: err.httpStatus, body: errorBody(err.label, err.msg) };
  return { status: 500, body: errorBody(LABEL.internal, "internal error") };
}

/**
 * A Gate APIv4 simulator over real HTTP: the sub-account key endpoints keyshift calls, the key's
 * own account detail, and two trading calls (spot balance, spot order); Gate's `{label, message}`
 * refusals, HMAC-SHA512 signing with the timestamp window, the main-account-only rule for key
 * management, a per-sub-account key limit, every key's IP whitelist judged against the caller's
 * address, and `last_access` recorded whenever a key authenticates. Faults look like an edge's:
 * `4xx` a 403 page, `5xx` a 503 page, `429` TOO_MANY_REQUESTS.
 */
export async function startGateSimulator(opts: GateSimulatorOptions = {}): Promise<GateSimulator> {
  const now = opts.now ?? Date.now;
  const store = new GateStore(opts.maxKeys ?? 20, now);

  function open(req: IncomingMessage, pathname: string): ExchangeCall {
    const method = req.method ?? "GET";
    const raw = req.url ?? "/";
    const route = matchRoute(method, pathname);
    const claimed = req.headers[GATE_HEADERS.apiKey];
    return {
      endpoint: route?.endpoint,
      keyId: typeof claimed === "string" ? claimed : undefined,
      accept: () => {
        if (!route) throw new GateSimError(LABEL.notFound, "Not Found", 404);
        return route.endpoint;
      },
      run: (body) => {
        const at = raw.indexOf("?");
        const caller = authenticate(
          {
            headers: req.headers,
            method: method as "GET" | "POST" | "PUT" | "DELETE",
            path: at < 0 ? raw : raw.slice(0, at),
            query: at < 0 ? "" : decodeURIComponent(raw.slice(at + 1).replace(/\+/g, " ")),
            body,
            callerIp: callerIp(req),
          },
          store,
        );
        const input = method === "POST" || method === "PUT" ? parseBody(body) : {};
        const result = runOperation(route as NonNullable<typeof route>, caller, input, store);
        return { status: result.status, body: result.body };
      },
      fault: faultAnswer,
      refusal,
    };
  }

  const served = await serveExchange({
    port: opts.port,
    host: opts.host,
    seed: opts.seed,
    timeoutMs: opts.timeoutMs,
    log: new RequestLog(store, API_KEY_FORMAT),
    open,
    controlPlane: (req, res, pathname) => handleGateControlPlane(req, res, pathname, sim),
  });

  const sim: GateSimulator = {
    ...served,
    createAccount: (account, accountOpts) => store.createAccount(account, accountOpts),
    addMainKey: (account, keyOpts) => {
      const key = store.addMainKey(store.account(account).mainUid, {
        readOnly: keyOpts.readOnly ?? false,
        ips: keyOpts.ips ?? ["127.0.0.1"],
      });
      return { apiKey: key.key, apiSecret: key.secret };
    },
    seedKey: (account, input) => {
      const sub = store.account(account);
      const key = store.createSubKey(sub.mainUid, sub.userId, {
        name: input.label,
        perms: input.perms,
        ip_whitelist: input.ips ?? [],
      });
      return { keyId: key.key, secret: key.secret };
    },
    refuseRemoval: (keyId, attempts) => store.refuseRemoval(keyId, attempts),
    keys: (account) =>
      store.allSubKeys(account).map((key) => ({
        keyId: key.key,
        name: key.name,
        perms: key.perms.map((p) => ({ ...p })),
        ips: [...key.ips],
        status: key.removedAt !== undefined ? "removed" : "active",
        createdAt: new Date(key.createdAt).toISOString(),
        ...(key.lastAccess !== undefined ? { lastAccess: new Date(key.lastAccess).toISOString() } : {}),
        ...(key.removedAt !== undefined ? { removedAt: new Date(key.removedAt).toISOString() } : {}),
      })),
    now,
  };
  return sim;
}

/** A body that is not a JSON object is INVALID_REQUEST_BODY. */
function parseBody(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new GateSimError(LABEL.invalidBody, "request body must be a JSON object");
}
