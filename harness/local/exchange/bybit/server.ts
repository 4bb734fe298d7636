import type { IncomingMessage, ServerResponse } from "node:http";
import { BYBIT_HEADERS } from "../../../../src/adapters/exchange/bybit/signing";
import { FaultPlan } from "../faults";
import { readBody, sendJson } from "../http-util";
import { RequestLog, type RequestLogEntry } from "../request-log";
import { Delays, serveSimulator } from "../sim-server";
import { authenticate } from "./auth";
import { handleBybitControlPlane } from "./control-plane";
import { BybitSimError, envelope, paramError, RET } from "./errors";
import { bybitTime, lifetime, MASTER_MANAGE_PERMISSIONS } from "./key-rules";
import { matchRoute, runOperation } from "./routes";
import { API_KEY_FORMAT, BybitStore } from "./store";
import type { BybitSimulator } from "./types";

export type { BybitAccountCredential, BybitSimKeyView, BybitSimulator, SeedKeyInput } from "./types";

export interface BybitSimulatorOptions {
  port?: number;
  host?: string;
  /** Seed of the fault PRNGs; default 1. */
  seed?: number;
  /** Keys a sub-account may hold (Bybit does not publish its number); default 20. */
  maxKeys?: number;
  /** The exchange's clock in ms (timestamp window, key expiry); default `Date.now`. */
  now?: () => number;
  /** How long a `timeout` fault holds a request before dropping the connection; default 10 s. */
  timeoutMs?: number;
}

/**
 * A Bybit v5 simulator over real HTTP: the user endpoints keyshift calls, Bybit's envelope and
 * retCodes (HTTP 200 for most errors), HMAC signing with the recv window, the master/sub-account
 * rule, cursor pagination, the per-sub-account key limit and the 90-day expiry of unbound keys.
 * Faults look like Bybit's: `4xx` is the edge's 403, `5xx` a gateway 503 page, `429` retCode 10006.
 */
export async function startBybitSimulator(opts: BybitSimulatorOptions = {}): Promise<BybitSimulator> {
  const now = opts.now ?? Date.now;
  const store = new BybitStore(opts.maxKeys ?? 20, now);
  const faults = new FaultPlan(opts.seed ?? 1);
  const log = new RequestLog(store, API_KEY_FORMAT);
  const delays = new Delays();
  const holdMs = opts.timeoutMs ?? 10_000;

  const answer = (
    entry: RequestLogEntry,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers = {},
  ) => {
    entry.status = res.destroyed ? 0 : status;
    sendJson(res, status, body, headers);
  };
  const edge = (entry: RequestLogEntry, res: ServerResponse, status: number, fault: string, page: string) => {
    entry.fault = fault;
    entry.status = res.destroyed ? 0 : status;
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { "content-type": "text/html", "content-length": Buffer.byteLength(page) });
    res.end(page);
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const method = req.method ?? "GET";
    const raw = req.url ?? "/";
    const rawQuery = raw.includes("?") ? raw.slice(raw.indexOf("?") + 1) : "";
    const route = matchRoute(method, pathname);
    const claimed = req.headers[BYBIT_HEADERS.apiKey];
    const entry = log.begin({
      endpoint: route?.endpoint ?? "unknown",
      method,
      path: raw,
      ...(typeof claimed === "string" ? { keyId: claimed } : {}),
    });
    try {
      const body = await readBody(req).catch(() => {
        throw paramError("request body too large");
      });
      if (!route) throw new BybitSimError(RET.routeNotFound, "Route not found.", 404);
      const decision = faults.decide(route.endpoint);
      if (decision.latencyMs > 0) await delays.start(decision.latencyMs).done;
      switch (decision.fault) {
        case "4xx":
          return edge(entry, res, 403, "4xx", "<html><body>403 Forbidden: access too frequent</body></html>");
        case "5xx":
          return edge(
            entry,
            res,
            503,
            "5xx",
            "<html><body>503 Service Temporarily Unavailable</body></html>",
          );
        case "429":
          entry.fault = "429";
          return answer(entry, res, 200, envelope(RET.rateLimit, "Too many visits!", {}, now()), {
            "x-bapi-limit": "10",
            "x-bapi-limit-status": "0",
            "x-bapi-limit-reset-timestamp": String(now() + 1_000),
          });
        case "timeout": {
          entry.fault = "timeout";
          return delays.holdThenDrop(res, holdMs);
        }
      }
      const payload = method === "GET" ? rawQuery : body;
      const caller = authenticate(
        { headers: req.headers, payload, remoteAddress: req.socket.remoteAddress ?? "" },
        store,
      );
      const result = runOperation(
        route.operation,
        caller,
        { query: new URLSearchParams(rawQuery), body: method === "POST" ? parseBody(body) : {} },
        store,
      );
      if (decision.fault === "5xx-after-effect") {
        return edge(
          entry,
          res,
          503,
          "5xx-after-effect",
          "<html><body>503 Service Temporarily Unavailable</body></html>",
        );
      }
      return answer(entry, res, 200, envelope(RET.ok, "OK", result, now()));
    } catch (err) {
      if (err instanceof BybitSimError) {
        return answer(entry, res, err.httpStatus, envelope(err.retCode, err.retMsg, {}, now()), err.headers);
      }
      return answer(entry, res, 200, envelope(RET.serverError, "Server error.", {}, now()));
    }
  }

  const served = await serveSimulator({
    port: opts.port,
    host: opts.host,
    api: handleApi,
    controlPlane: (req, res, pathname) => handleBybitControlPlane(req, res, pathname, sim),
    delays,
  });

  const sim: BybitSimulator = {
    url: served.url,
    createAccount: (account, accountOpts) => store.createAccount(account, accountOpts),
    addMasterKey: (account, keyOpts) => {
      const key = store.addMasterKey(store.account(account).masterUid, {
        readOnly: keyOpts.readOnly ?? false,
        wallet: keyOpts.wallet ?? MASTER_MANAGE_PERMISSIONS,
        ...(keyOpts.ips ? { ips: keyOpts.ips } : {}),
      });
      return { apiKey: key.apiKey, apiSecret: key.secret };
    },
    seedKey: (account, input) => {
      const sub = store.account(account);
      const key = store.createSubKey(sub.masterUid, {
        subuid: sub.uid,
        note: input.label,
        readOnly: input.readOnly ? 1 : 0,
        permissions: input.permissions,
        ...(input.ips?.length ? { ips: input.ips.join(",") } : {}),
      });
      return { keyId: key.apiKey, secret: key.secret };
    },
    setFault: (endpoint, spec) => faults.set(endpoint, spec),
    clearFaults: () => faults.clear(),
    requestLog: () => log.snapshot(),
    keys: (account) =>
      store.allSubKeys(account).map((key) => {
        const life = lifetime(key, now());
        return {
          keyId: key.apiKey,
          label: key.note,
          permissions: structuredClone(key.permissions),
          readOnly: key.readOnly,
          ips: [...key.ips],
          status: key.removedAt !== undefined ? "removed" : life.expired ? "expired" : "active",
          createdAt: bybitTime(key.createdAt),
          ...(key.ips.length === 0 ? { expiresAt: life.expiredAt } : {}),
          ...(key.removedAt !== undefined ? { removedAt: bybitTime(key.removedAt) } : {}),
        };
      }),
    now,
    close: served.close,
  };
  return sim;
}

/** Bybit refuses a POST whose body is not a JSON object with 10001 "body not json". */
function parseBody(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw paramError("body not json");
}
