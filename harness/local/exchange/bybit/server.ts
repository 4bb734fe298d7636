import type { IncomingMessage } from "node:http";
import { BYBIT_HEADERS } from "../../../../src/adapters/exchange/bybit/signing";
import { callerIp } from "../caller-address";
import { SimulatorError } from "../http-util";
import { RequestLog } from "../request-log";
import { type Answer, type AnsweredFault, type ExchangeCall, serveExchange } from "../sim-server";
import { BybitActivityBook } from "./activity";
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

const GATEWAY_503 = "<html><body>503 Service Temporarily Unavailable</body></html>";

/**
 * A Bybit v5 simulator over real HTTP: the user endpoints keyshift calls, Bybit's envelope and
 * retCodes (HTTP 200 for most errors), HMAC signing with the recv window, the master/sub-account
 * rule, cursor pagination, the per-sub-account key limit and the 90-day expiry of unbound keys.
 * Faults look like Bybit's: `4xx` is the edge's 403, `5xx` a gateway 503 page, `429` retCode 10006.
 */
export async function startBybitSimulator(opts: BybitSimulatorOptions = {}): Promise<BybitSimulator> {
  const now = opts.now ?? Date.now;
  const store = new BybitStore(opts.maxKeys ?? 20, now);
  const book = new BybitActivityBook(store);

  const faultAnswer = (kind: AnsweredFault): Answer => {
    switch (kind) {
      case "4xx":
        return { status: 403, html: "<html><body>403 Forbidden: access too frequent</body></html>" };
      case "5xx":
      case "5xx-after-effect":
        return { status: 503, html: GATEWAY_503 };
      case "429":
        return {
          status: 200,
          body: envelope(RET.rateLimit, "Too many visits!", {}, now()),
          headers: {
            "x-bapi-limit": "10",
            "x-bapi-limit-status": "0",
            "x-bapi-limit-reset-timestamp": String(now() + 1_000),
          },
        };
    }
  };

  function open(req: IncomingMessage, pathname: string): ExchangeCall {
    const method = req.method ?? "GET";
    const raw = req.url ?? "/";
    const rawQuery = raw.includes("?") ? raw.slice(raw.indexOf("?") + 1) : "";
    const route = matchRoute(method, pathname);
    const claimed = req.headers[BYBIT_HEADERS.apiKey];
    return {
      endpoint: route?.endpoint,
      keyId: typeof claimed === "string" ? claimed : undefined,
      accept: () => {
        if (!route) throw new BybitSimError(RET.routeNotFound, "Route not found.", 404);
        return route.endpoint;
      },
      run: (body) => {
        const payload = method === "GET" ? rawQuery : body;
        const caller = authenticate({ headers: req.headers, payload, callerIp: callerIp(req) }, store);
        const result = runOperation(
          (route as NonNullable<typeof route>).operation,
          caller,
          { query: new URLSearchParams(rawQuery), body: method === "POST" ? parseBody(body) : {} },
          store,
          book,
        );
        return { status: 200, body: envelope(RET.ok, "OK", result, now()) };
      },
      fault: faultAnswer,
      refusal: (caught) => {
        // An oversized body is Bybit's parameter error, as any other unreadable request.
        const err = caught instanceof SimulatorError ? paramError("request body too large") : caught;
        if (err instanceof BybitSimError) {
          return {
            status: err.httpStatus,
            body: envelope(err.retCode, err.retMsg, {}, now()),
            headers: err.headers,
          };
        }
        return { status: 200, body: envelope(RET.serverError, "Server error.", {}, now()) };
      },
    };
  }

  const served = await serveExchange({
    port: opts.port,
    host: opts.host,
    seed: opts.seed,
    timeoutMs: opts.timeoutMs,
    log: new RequestLog(store, API_KEY_FORMAT),
    open,
    controlPlane: (req, res, pathname) => handleBybitControlPlane(req, res, pathname, sim),
  });

  const sim: BybitSimulator = {
    ...served,
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
    activity: {
      recordExecution: (account, input) => book.recordExecution(store.account(account).uid, input),
      recordTransfer: (account, input) => {
        const sub = store.account(account);
        const other = input.to ?? input.from ?? sub.masterUid;
        book.recordTransfer({
          fromUid: input.direction === "out" ? sub.uid : other,
          toUid: input.direction === "out" ? other : sub.uid,
          ...(input.atMs !== undefined ? { atMs: input.atMs } : {}),
        });
      },
    },
    now,
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
