import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { BybitAccountCredential, BybitSimulator } from "../../harness/local/exchange/bybit";
import { type BybitConfig, BybitExchange, parseBybitAdminSecret } from "../../src/adapters/exchange/bybit";
import { bybitSignedHeaders } from "../../src/adapters/exchange/bybit/signing";

/** The admin secret an operator would store for a simulated account. */
export function adminConfig(
  sim: { url: string },
  cred: Pick<BybitAccountCredential, "apiKey" | "apiSecret" | "subuid">,
  extra: Record<string, unknown> = {},
): BybitConfig {
  return parseBybitAdminSecret(
    {
      exchange: "bybit",
      endpoint: sim.url,
      apiKey: cred.apiKey,
      apiSecret: cred.apiSecret,
      subuid: cred.subuid,
      ...extra,
    },
    "keyshift/test/bybit-admin",
  );
}

/** An adapter whose every account is `config` (or whatever `configFor` answers). */
export function adapterFor(
  config: BybitConfig | ((account: string) => BybitConfig),
  opts: { now?: () => number; verifyBudgetMs?: number; timeoutMs?: number } = {},
): BybitExchange {
  return new BybitExchange({
    credentials: async (account) => (typeof config === "function" ? config(account) : config),
    verifyBudgetMs: opts.verifyBudgetMs ?? 300,
    timeoutMs: opts.timeoutMs ?? 1_000,
    ...(opts.now ? { now: opts.now } : {}),
  });
}

/** Bybit's envelope as a raw client sees it; `result` is whatever the endpoint returns. */
export interface RawAnswer {
  retCode?: number;
  retMsg?: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whichever result fields they check
  result?: any;
}

/** A signed raw request to the simulator, the way any Bybit client makes one. */
export async function rawCall(
  sim: BybitSimulator,
  key: { apiKey: string; secret: string },
  method: "GET" | "POST",
  path: string,
  params: Record<string, unknown> = {},
  opts: {
    nowMs?: number;
    recvWindowMs?: number;
    /** A POST body sent (and signed) as is instead of `params` as JSON. */
    body?: string;
    /** A GET query string sent (and signed) as is instead of `params` encoded. */
    query?: string;
    tamper?: (h: Record<string, string>) => void;
    /** The client to send it with, e.g. `fetchFrom(EGRESS_IP)` (default: the test's own, 127.0.0.1). */
    fetchImpl?: typeof fetch;
  } = {},
): Promise<{ status: number; body: RawAnswer; text: string }> {
  const url = new URL(path, sim.url);
  let payload = "";
  if (method === "GET") {
    url.search = opts.query ?? new URLSearchParams(params as Record<string, string>).toString();
    payload = url.search.slice(1);
  } else {
    payload = opts.body ?? JSON.stringify(params);
  }
  const headers = bybitSignedHeaders(key, payload, {
    nowMs: opts.nowMs ?? sim.now(),
    recvWindowMs: opts.recvWindowMs ?? 5_000,
  });
  if (method === "POST") headers["content-type"] = "application/json";
  opts.tamper?.(headers);
  const res = await (opts.fetchImpl ?? fetch)(url, {
    method,
    headers,
    ...(method === "POST" ? { body: payload } : {}),
  });
  const text = await res.text();
  let body = {};
  try {
    body = JSON.parse(text);
  } catch {
    // an edge page
  }
  return { status: res.status, body, text };
}

export type ProxyAction =
  | { status: number; body: string | Buffer; contentType?: string }
  | { rewrite: (text: string) => string };

/**
 * A real HTTP proxy in front of the simulator, standing for what sits between keyshift and Bybit
 * (a corporate proxy, a CDN): per request, forward it or answer on its own.
 */
export async function startProxy(target: string) {
  let rule: (req: IncomingMessage) => ProxyAction | undefined = () => undefined;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const action = rule(req);
    if (action && "status" in action) {
      res.writeHead(action.status, { "content-type": action.contentType ?? "text/html" });
      res.end(action.body);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (typeof v === "string" && k !== "host") headers[k] = v;
    const upstream = await fetch(new URL(req.url ?? "/", target), {
      method: req.method ?? "GET",
      headers,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    let text = await upstream.text();
    if (action && "rewrite" in action) text = action.rewrite(text);
    res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "text/plain" });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    /** What to do with the next requests; `undefined` forwards. */
    set(next: (req: IncomingMessage) => ProxyAction | undefined) {
      rule = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Runs a call expected to fail; returns the error. */
export async function failure(
  work: Promise<unknown>,
): Promise<Error & { exchangeCode?: string; retryAfterSeconds?: number }> {
  try {
    await work;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`expected an Error, got ${String(err)}`);
  }
  throw new Error("expected the call to fail");
}

/** A trading key's scope as an operator would make it on the website. */
export const TRADING_SCOPE = { ContractTrade: ["Order", "Position"], Spot: ["SpotTrade"] };
