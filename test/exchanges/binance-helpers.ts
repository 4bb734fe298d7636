import { createHmac } from "node:crypto";
import type { BinanceAccountCredential, BinanceSimulator } from "../../harness/local/exchange/binance";
import {
  type BinanceConfig,
  BinanceExchange,
  parseBinanceAdminSecret,
} from "../../src/adapters/exchange/binance";

/** The admin secret an operator would store for a simulated account. */
export function adminConfig(
  sim: { url: string },
  cred: Pick<BinanceAccountCredential, "apiKey" | "apiSecret" | "subAccountEmail">,
  extra: Record<string, unknown> = {},
): BinanceConfig {
  return parseBinanceAdminSecret(
    {
      exchange: "binance",
      endpoint: sim.url,
      apiKey: cred.apiKey,
      apiSecret: cred.apiSecret,
      subAccountEmail: cred.subAccountEmail,
      ...extra,
    },
    "keyshift/test/binance-admin",
  );
}

/** An adapter whose every account is `config`. */
export function adapterFor(
  config: BinanceConfig,
  opts: { now?: () => number; verifyBudgetMs?: number; timeoutMs?: number; fetchImpl?: typeof fetch } = {},
): BinanceExchange {
  return new BinanceExchange({
    credentials: async () => config,
    verifyBudgetMs: opts.verifyBudgetMs ?? 300,
    timeoutMs: opts.timeoutMs ?? 1_000,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
  });
}

/**
 * The signature as Binance's reference computes it (`echo -n "$payload" | openssl dgst -sha256
 * -hmac "$secret"`): written here, not imported, so a test checks the adapter and the simulator
 * against independent code.
 */
export function referenceSignature(secret: string, payload: string): string {
  return createHmac("sha256", secret).update(payload, "utf8").digest("hex");
}

export interface RawAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whichever fields they check
  body: any;
  text: string;
}

/** A signed raw request to the simulator, the way any Binance client makes one (signed by the test's own code). */
export async function rawCall(
  sim: BinanceSimulator,
  key: { apiKey: string; secret: string },
  method: "GET" | "POST" | "DELETE",
  path: string,
  params: Record<string, string> = {},
  opts: {
    nowMs?: number;
    recvWindow?: number;
    /** Replaces the computed signature. */
    signature?: string;
    omitKeyHeader?: boolean;
    fetchImpl?: typeof fetch;
  } = {},
): Promise<RawAnswer> {
  const all = new URLSearchParams({
    ...params,
    ...(opts.recvWindow !== undefined ? { recvWindow: String(opts.recvWindow) } : {}),
    timestamp: String(opts.nowMs ?? sim.now()),
  });
  const payload = all.toString();
  const signed = `${payload}&signature=${opts.signature ?? referenceSignature(key.secret, payload)}`;
  const url = new URL(path, sim.url);
  if (method !== "POST") url.search = signed;
  const headers: Record<string, string> = opts.omitKeyHeader ? {} : { "X-MBX-APIKEY": key.apiKey };
  if (method === "POST") headers["content-type"] = "application/x-www-form-urlencoded";
  const res = await (opts.fetchImpl ?? fetch)(url, {
    method,
    headers,
    ...(method === "POST" ? { body: signed } : {}),
  });
  const text = await res.text();
  let body: unknown = {};
  try {
    body = JSON.parse(text);
  } catch {
    // an edge page
  }
  return { status: res.status, body, text };
}

/** Runs a call expected to fail; returns the error. */
export async function failure(
  work: Promise<unknown>,
): Promise<Error & { exchangeCode?: string; retryAfterSeconds?: number; status?: number }> {
  try {
    await work;
  } catch (err) {
    if (err instanceof Error) return err;
    throw new Error(`expected an Error, got ${String(err)}`);
  }
  throw new Error("expected the call to fail");
}

/** A trading key's flags as an operator would set them on the website. */
export const TRADING_FLAGS = { canTrade: true, canFuturesTrade: true };
/** The same scope as keyshift normalizes it. */
export const TRADING_SCOPE = ["canFuturesTrade", "canTrade", "enableReading"];
