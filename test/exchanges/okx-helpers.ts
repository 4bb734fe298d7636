import { createHmac } from "node:crypto";
import type { OkxAccountCredential, OkxSimulator } from "../../harness/local/exchange/okx";
import { type OkxConfig, OkxExchange, parseOkxAdminSecret } from "../../src/adapters/exchange/okx";

/** The admin secret an operator would store for a simulated account. */
export function adminConfig(
  sim: { url: string },
  cred: Pick<OkxAccountCredential, "apiKey" | "secretKey" | "passphrase" | "subAcct">,
  extra: Record<string, unknown> = {},
): OkxConfig {
  return parseOkxAdminSecret(
    {
      exchange: "okx",
      endpoint: sim.url,
      apiKey: cred.apiKey,
      secretKey: cred.secretKey,
      passphrase: cred.passphrase,
      subAcct: cred.subAcct,
      ...extra,
    },
    "keyshift/test/okx-admin",
  );
}

/** An adapter whose every account is `config`. */
export function adapterFor(
  config: OkxConfig,
  opts: {
    now?: () => number;
    verifyBudgetMs?: number;
    fetchImpl?: typeof fetch;
    newPassphrase?: () => string;
  } = {},
): OkxExchange {
  return new OkxExchange({
    credentials: async () => config,
    verifyBudgetMs: opts.verifyBudgetMs ?? 300,
    timeoutMs: 1_000,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
    ...(opts.newPassphrase ? { newPassphrase: opts.newPassphrase } : {}),
  });
}

/**
 * OKX's signature computed here, independently of the adapter's signer, from the reference's
 * words: Base64(HMAC-SHA256(secretKey, timestamp + METHOD + requestPath + body)).
 */
export function signByHand(
  secretKey: string,
  timestamp: string,
  method: string,
  path: string,
  body: string,
): string {
  const mac = createHmac("sha256", Buffer.from(secretKey, "utf8"));
  mac.update(Buffer.from(`${timestamp}${method}${path}${body}`, "utf8"));
  return mac.digest().toString("base64");
}

/** OKX's envelope as a raw client sees it. */
export interface RawAnswer {
  code?: string;
  msg?: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whichever data fields they check
  data?: any[];
}

/** A request to the simulator signed by hand (not by the adapter's signer), the way any OKX client makes one. */
export async function rawCall(
  sim: OkxSimulator,
  key: { apiKey: string; secretKey: string; passphrase: string },
  method: "GET" | "POST",
  path: string,
  params: Record<string, string> = {},
  opts: {
    nowMs?: number;
    fetchImpl?: typeof fetch;
    tamper?: (h: Record<string, string>) => void;
  } = {},
): Promise<{ status: number; body: RawAnswer }> {
  const query = method === "GET" && Object.keys(params).length > 0 ? `?${new URLSearchParams(params)}` : "";
  const body = method === "POST" ? JSON.stringify(params) : "";
  const timestamp = new Date(opts.nowMs ?? sim.now()).toISOString();
  const headers: Record<string, string> = {
    "OK-ACCESS-KEY": key.apiKey,
    "OK-ACCESS-SIGN": signByHand(key.secretKey, timestamp, method, path + query, body),
    "OK-ACCESS-TIMESTAMP": timestamp,
    "OK-ACCESS-PASSPHRASE": key.passphrase,
    "content-type": "application/json",
  };
  opts.tamper?.(headers);
  const res = await (opts.fetchImpl ?? fetch)(new URL(path + query, sim.url), {
    method,
    headers,
    ...(method === "POST" ? { body } : {}),
  });
  const text = await res.text();
  let parsed: RawAnswer = {};
  try {
    parsed = JSON.parse(text) as RawAnswer;
  } catch {
    // an edge page
  }
  return { status: res.status, body: parsed };
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

/** A trading key's scope as keyshift normalizes it. */
export const TRADING_PERM = ["read_only", "trade"];
