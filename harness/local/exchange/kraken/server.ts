import type { IncomingMessage } from "node:http";
import { KRAKEN_HEADERS } from "../../../../src/adapters/exchange/kraken/signing";
import { callerIp } from "../caller-address";
import { SimulatorError } from "../http-util";
import { RequestLog } from "../request-log";
import { type Answer, type AnsweredFault, type ExchangeCall, serveExchange } from "../sim-server";
import { authenticate } from "./auth";
import { handleKrakenControlPlane } from "./control-plane";
import { ERR, envelope, KrakenSimError } from "./errors";
import { matchRoute, runRoute, unknownMethod } from "./routes";
import { API_KEY_FORMAT, KrakenStore } from "./store";
import type { KrakenSimulator } from "./types";

export interface KrakenSimulatorOptions {
  port?: number;
  host?: string;
  /** Seed of the fault PRNGs; default 1. */
  seed?: number;
  /** The exchange's clock in ms (key expiry); default `Date.now`. */
  now?: () => number;
  /** How long a `timeout` fault holds a request before dropping the connection; default 10 s. */
  timeoutMs?: number;
}

const CLOUDFLARE_403 = "<html><body><h1>403 Forbidden</h1><p>cloudflare</p></body></html>";

/**
 * A Kraken spot REST simulator over real HTTP: the private methods keyshift calls (`Balance`,
 * `GetApiKeyInfo`), API-Sign verified exactly, Kraken's per-key nonce rule with the nonce window,
 * each key's IP allow-list judged against the caller's address, expiry, and Kraken's error strings
 * in its `{error, result}` envelope. No key API: keys are made and deleted by the harness playing
 * the person at the web UI. Faults: `4xx` is Cloudflare's 403 page, `5xx` `EService:Unavailable`
 * with 503, `429` `EAPI:Rate limit exceeded`.
 */
export async function startKrakenSimulator(opts: KrakenSimulatorOptions = {}): Promise<KrakenSimulator> {
  const now = opts.now ?? Date.now;
  const store = new KrakenStore(now);

  const faultAnswer = (kind: AnsweredFault): Answer => {
    switch (kind) {
      case "4xx":
        return { status: 403, html: CLOUDFLARE_403 };
      case "5xx":
      case "5xx-after-effect":
        return { status: 503, body: envelope([ERR.unavailable]) };
      case "429":
        return { status: 200, body: envelope([ERR.rateLimit]) };
    }
  };

  function open(req: IncomingMessage, pathname: string): ExchangeCall {
    const route = matchRoute(req.method ?? "GET", pathname);
    const claimed = req.headers[KRAKEN_HEADERS.apiKey.toLowerCase()];
    return {
      endpoint: route?.endpoint,
      keyId: typeof claimed === "string" ? claimed : undefined,
      accept: () => {
        if (!route) throw unknownMethod();
        return route.endpoint;
      },
      run: (body) => {
        const key = authenticate(
          { headers: req.headers, uriPath: pathname, body, callerIp: callerIp(req) },
          store,
        );
        return { status: 200, body: envelope([], runRoute(route as NonNullable<typeof route>, key)) };
      },
      fault: faultAnswer,
      refusal: (caught) => {
        const err = caught instanceof SimulatorError ? new KrakenSimError(ERR.invalidArguments) : caught;
        if (err instanceof KrakenSimError) return { status: err.httpStatus, body: envelope([err.error]) };
        return { status: 500, body: envelope([ERR.internal]) };
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
    controlPlane: (req, res, pathname) => handleKrakenControlPlane(req, res, pathname, sim),
  });

  const sim: KrakenSimulator = {
    ...served,
    createAccount: (account) => store.createAccount(account),
    createKey: (account, input) => store.createKey(account, input),
    deleteKey: (account, keyId) => store.deleteKey(account, keyId),
    keys: (account) => store.view(account),
    now,
  };
  return sim;
}
