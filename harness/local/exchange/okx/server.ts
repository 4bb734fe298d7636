import type { IncomingMessage } from "node:http";
import { generatePassphrase } from "../../../../src/adapters/exchange/okx/scope";
import { OKX_HEADERS } from "../../../../src/adapters/exchange/okx/signing";
import { callerIp } from "../caller-address";
import { SimulatorError } from "../http-util";
import { RequestLog } from "../request-log";
import { type Answer, type AnsweredFault, type ExchangeCall, serveExchange } from "../sim-server";
import { OkxActivityBook } from "./activity";
import { authenticate } from "./auth";
import { handleOkxControlPlane } from "./control-plane";
import { CODE, envelope, OkxSimError } from "./errors";
import { matchRoute, runOperation } from "./routes";
import { API_KEY_FORMAT, OkxStore } from "./store";
import type { OkxSimulator } from "./types";

export type { OkxAccountCredential, OkxSeedKeyInput, OkxSimKeyView, OkxSimulator } from "./types";

export interface OkxSimulatorOptions {
  port?: number;
  host?: string;
  /** Seed of the fault PRNGs; default 1. */
  seed?: number;
  /** Keys a sub-account may hold; default 50 (59501 "Only 50 APIKeys can be created per account"). */
  maxKeys?: number;
  /** Demo trading: every request must carry `x-simulated-trading: 1` (50101 otherwise); default false. */
  demo?: boolean;
  /** The exchange's clock in ms (timestamp window); default `Date.now`. */
  now?: () => number;
  /** How long a `timeout` fault holds a request before dropping the connection; default 10 s. */
  timeoutMs?: number;
}

const GATEWAY_503 = "<html><body>503 Service Temporarily Unavailable</body></html>";

/**
 * An OKX v5 simulator over real HTTP: the sub-account key endpoints keyshift calls and a trading
 * read, OKX's `{code, msg, data}` envelope and codes, HMAC signing with the timestamp window,
 * per-key passphrases, the demo header, the master-only and IP-bound-master rules, the 50-key
 * limit, and every key's IP whitelist judged against the caller's address. Faults look like
 * OKX's: `4xx` an edge 403 page, `5xx` a gateway 503 page, `429` code 50011 with HTTP 429.
 */
export async function startOkxSimulator(opts: OkxSimulatorOptions = {}): Promise<OkxSimulator> {
  const now = opts.now ?? Date.now;
  const demo = opts.demo ?? false;
  const store = new OkxStore(opts.maxKeys ?? 50, now);
  const book = new OkxActivityBook(store);

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
          body: envelope(CODE.rateLimit, "Too Many Requests", []),
          headers: { "retry-after": "1" },
        };
    }
  };

  function open(req: IncomingMessage, pathname: string): ExchangeCall {
    const method = req.method ?? "GET";
    const raw = req.url ?? "/";
    const route = matchRoute(method, pathname);
    const claimed = req.headers[OKX_HEADERS.apiKey];
    return {
      endpoint: route?.endpoint,
      keyId: typeof claimed === "string" ? claimed : undefined,
      accept: () => {
        if (!route) throw new OkxSimError("404", "Not Found", 404);
        return route.endpoint;
      },
      run: (body) => {
        const caller = authenticate(
          {
            headers: req.headers,
            method: method as "GET" | "POST",
            requestPath: raw,
            body,
            callerIp: callerIp(req),
          },
          store,
          demo,
        );
        const query = new URLSearchParams(raw.includes("?") ? raw.slice(raw.indexOf("?") + 1) : "");
        const input = { query, body: method === "POST" ? parseBody(body) : {} };
        const data = runOperation((route as NonNullable<typeof route>).operation, caller, input, store, book);
        return { status: 200, body: envelope(CODE.ok, "", data) };
      },
      fault: faultAnswer,
      refusal: (caught) => {
        const err =
          caught instanceof SimulatorError ? new OkxSimError("50002", "Json data format error", 400) : caught;
        if (err instanceof OkxSimError)
          return { status: err.httpStatus, body: envelope(err.code, err.msg, []) };
        return { status: 500, body: envelope(CODE.systemError, "System error, please try again later.", []) };
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
    controlPlane: (req, res, pathname) => handleOkxControlPlane(req, res, pathname, sim),
  });

  const sim: OkxSimulator = {
    ...served,
    createAccount: (account, accountOpts) => store.createAccount(account, accountOpts),
    addMasterKey: (account, keyOpts) => {
      const key = store.addMasterKey(store.account(account).masterUid, {
        perm: keyOpts.perm ?? ["read_only", "trade"],
        ips: keyOpts.ips ?? ["127.0.0.1"],
      });
      return { apiKey: key.apiKey, secretKey: key.secretKey, passphrase: key.passphrase };
    },
    seedKey: (account, input) => {
      const sub = store.account(account);
      const key = store.createSubKey(sub.masterUid, {
        subAcct: sub.name,
        label: input.label,
        passphrase: generatePassphrase(),
        perm: input.perm.filter((p) => p !== "read_only").join(",") || "read_only",
        ...(input.ips?.length ? { ip: input.ips.join(",") } : {}),
      });
      return { keyId: key.apiKey, secret: key.secretKey, passphrase: key.passphrase };
    },
    keys: (account) =>
      store.allSubKeys(account).map((key) => ({
        keyId: key.apiKey,
        label: key.label,
        perm: [...key.perm],
        ips: [...key.ips],
        status: key.removedAt !== undefined ? "removed" : "active",
        createdAt: new Date(key.createdAt).toISOString(),
        ...(key.removedAt !== undefined ? { removedAt: new Date(key.removedAt).toISOString() } : {}),
      })),
    activity: {
      recordFill: (account, input) => book.recordFill(store.account(account).uid, input),
      recordTransfer: (account, input) =>
        book.recordTransfer(store.account(account), input.direction, input.atMs),
    },
    now,
  };
  return sim;
}

/** OKX refuses a POST whose body is not a JSON object with 50002 "Json data format error". */
function parseBody(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new OkxSimError("50002", "Json data format error", 400);
}
