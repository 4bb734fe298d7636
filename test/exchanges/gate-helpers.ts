import { createHash, createHmac } from "node:crypto";
import type { GateAccountCredential, GateSimulator } from "../../harness/local/exchange/gate";
import { type GateConfig, GateExchange, parseGateAdminSecret } from "../../src/adapters/exchange/gate";

/** The admin secret an operator would store for a simulated account. */
export function adminConfig(
  sim: { url: string },
  cred: Pick<GateAccountCredential, "apiKey" | "apiSecret" | "userId">,
  extra: Record<string, unknown> = {},
): GateConfig {
  return parseGateAdminSecret(
    {
      exchange: "gate",
      endpoint: sim.url,
      apiKey: cred.apiKey,
      apiSecret: cred.apiSecret,
      userId: cred.userId,
      ...extra,
    },
    "keyshift/test/gate-admin",
  );
}

/** An adapter whose every account is `config`. */
export function adapterFor(
  config: GateConfig,
  opts: { now?: () => number; verifyBudgetMs?: number; fetchImpl?: typeof fetch } = {},
): GateExchange {
  return new GateExchange({
    credentials: async () => config,
    verifyBudgetMs: opts.verifyBudgetMs ?? 300,
    timeoutMs: 1_000,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
  });
}

/**
 * Gate's signature computed here, independently of the adapter's signer, from the rule as Gate's
 * SDK states it: hex(HMAC-SHA512(secret, METHOD\npath\nquery\nhex(SHA512(body))\ntimestamp)).
 */
export function signByHand(
  secret: string,
  method: string,
  path: string,
  query: string,
  body: string,
  timestamp: string,
): string {
  const hashed = createHash("sha512").update(Buffer.from(body, "utf8")).digest("hex");
  const mac = createHmac("sha512", Buffer.from(secret, "utf8"));
  mac.update(Buffer.from(`${method}\n${path}\n${query}\n${hashed}\n${timestamp}`, "utf8"));
  return mac.digest("hex");
}

/** A request to the simulator signed by hand (not by the adapter's signer), the way any Gate client makes one. */
export async function rawCall(
  sim: GateSimulator,
  key: { apiKey: string; apiSecret: string },
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  payload?: unknown,
  opts: { nowMs?: number; fetchImpl?: typeof fetch; tamper?: (h: Record<string, string>) => void } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read whichever fields they check
): Promise<{ status: number; body: any }> {
  const body = payload === undefined ? "" : JSON.stringify(payload);
  const timestamp = String(Math.floor((opts.nowMs ?? sim.now()) / 1000));
  const headers: Record<string, string> = {
    KEY: key.apiKey,
    Timestamp: timestamp,
    SIGN: signByHand(key.apiSecret, method, path, "", body, timestamp),
    "content-type": "application/json",
  };
  opts.tamper?.(headers);
  const res = await (opts.fetchImpl ?? fetch)(new URL(path, sim.url), {
    method,
    headers,
    ...(body ? { body } : {}),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined; // an edge page
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

/** A trading key's scope as Gate lists it, and as keyshift normalizes it. */
export const TRADING_PERMS = [
  { name: "spot", read_only: false },
  { name: "futures", read_only: false },
];
export const TRADING_SCOPE = ["futures:write", "spot:write"];
