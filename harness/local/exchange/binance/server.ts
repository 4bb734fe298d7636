import type { IncomingMessage } from "node:http";
import { BINANCE_API_KEY_HEADER } from "../../../../src/adapters/exchange/binance/signing";
import { callerIp } from "../caller-address";
import { SimulatorError } from "../http-util";
import { RequestLog } from "../request-log";
import { type Answer, type AnsweredFault, type ExchangeCall, serveExchange } from "../sim-server";
import { authenticate } from "./auth";
import { handleBinanceControlPlane } from "./control-plane";
import { BinanceSimError, CODE, invalid } from "./errors";
import { matchRoute, runOperation } from "./routes";
import { API_KEY_FORMAT, BinanceStore, FLAG_NAMES, type SimKey } from "./store";
import type { BinanceSimulator } from "./types";

export type { BinanceAccountCredential, BinanceSimKeyView, BinanceSimulator, SeedKeyInput } from "./types";

export interface BinanceSimulatorOptions {
  port?: number;
  host?: string;
  /** Seed of the fault PRNGs; default 1. */
  seed?: number;
  /** Keys a sub-account may hold (Binance does not publish its number); default 30. */
  maxKeys?: number;
  /** The exchange's clock in ms (the timestamp window); default `Date.now`. */
  now?: () => number;
  /** How long a `timeout` fault holds a request before dropping the connection; default 10 s. */
  timeoutMs?: number;
}

/** An unknown path: Binance's edge answers 404 with a page, not `{code, msg}`. */
class RouteNotFound extends Error {}

const GATEWAY_503 = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>";

/**
 * A Binance simulator over real HTTP: the sub-account API management endpoints keyshift calls and
 * the account read a trading service makes, Binance's `{code, msg}` errors with their HTTP
 * statuses, HMAC `SIGNED` requests with the timestamp window, every key's trusted IPs judged
 * against the caller's address, the master/sub-account rule and a per-sub-account key limit.
 * Faults look like Binance's: `4xx` is the WAF's 403, `5xx` a gateway 503, `429` -1003 with
 * `Retry-After`.
 */
export async function startBinanceSimulator(opts: BinanceSimulatorOptions = {}): Promise<BinanceSimulator> {
  const now = opts.now ?? Date.now;
  const store = new BinanceStore(opts.maxKeys ?? 30, now);

  const faultAnswer = (kind: AnsweredFault): Answer => {
    switch (kind) {
      case "4xx":
        return { status: 403, html: "<html><body>403 Forbidden (WAF)</body></html>" };
      case "5xx":
      case "5xx-after-effect":
        return { status: 503, html: GATEWAY_503 };
      case "429":
        return {
          status: 429,
          body: {
            code: CODE.rateLimit,
            msg: "Too much request weight used; current limit is 180000 request weight per 1 MINUTE.",
          },
          headers: { "retry-after": "1" },
        };
    }
  };

  function open(req: IncomingMessage, pathname: string): ExchangeCall {
    const method = req.method ?? "GET";
    const raw = req.url ?? "/";
    const query = raw.includes("?") ? raw.slice(raw.indexOf("?") + 1) : "";
    const route = matchRoute(method, pathname);
    const claimed = req.headers[BINANCE_API_KEY_HEADER];
    return {
      endpoint: route?.endpoint,
      keyId: typeof claimed === "string" ? claimed : undefined,
      accept: () => {
        if (!route) throw new RouteNotFound();
        return route.endpoint;
      },
      run: (body) => {
        const { key, params } = authenticate(
          { headers: req.headers, query, body, callerIp: callerIp(req) },
          store,
        );
        const result = runOperation((route as NonNullable<typeof route>).operation, key, params, store);
        return { status: 200, body: result };
      },
      fault: faultAnswer,
      refusal: (caught) => {
        if (caught instanceof RouteNotFound)
          return { status: 404, html: "<html><body>Not Found</body></html>" };
        // An oversized body is a malformed request, as any other unreadable one.
        const err = caught instanceof SimulatorError ? invalid("body", "Request body too large.") : caught;
        if (err instanceof BinanceSimError) {
          return { status: err.httpStatus, body: { code: err.code, msg: err.msg }, headers: err.headers };
        }
        return {
          status: 500,
          body: { code: -1000, msg: "An unknown error occurred while processing the request." },
        };
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
    controlPlane: (req, res, pathname) => handleBinanceControlPlane(req, res, pathname, sim),
  });

  const iso = (ms: number) => new Date(ms).toISOString();
  const view = (key: SimKey) => ({
    keyId: key.apiKey,
    label: key.apiName,
    flags: { ...key.flags },
    ips: [...key.ips],
    status: key.removedAt !== undefined ? ("removed" as const) : ("active" as const),
    createdAt: iso(key.createdAt),
    ...(key.removedAt !== undefined ? { removedAt: iso(key.removedAt) } : {}),
  });

  const sim: BinanceSimulator = {
    ...served,
    createAccount: (account, accountOpts) => store.createAccount(account, accountOpts),
    addMasterKey: (account, keyOpts) => {
      const key = store.addMasterKey(account, keyOpts);
      return { apiKey: key.apiKey, apiSecret: key.secret };
    },
    seedKey: (account, input) => {
      const sub = store.account(account);
      const params = new URLSearchParams({ email: sub.email, apiName: input.label });
      params.set("status", input.ips?.length ? "2" : "1");
      if (input.ips?.length) params.set("ipAddress", input.ips.join(","));
      for (const name of FLAG_NAMES) if (input.flags[name]) params.set(name, "true");
      const key = store.createSubKey(sub.masterId, params);
      return { keyId: key.apiKey, secret: key.secret };
    },
    keys: (account) => store.allSubKeys(account).map(view),
    now,
  };
  return sim;
}
