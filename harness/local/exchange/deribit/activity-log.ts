import { randomBytes } from "node:crypto";
import { CONSUMER_HOST_IP, EGRESS_IP, ipAllowed, OUTSIDE_IP } from "../caller-address";
import type { DeribitAccountStore, SimAccount, SimKey } from "./accounts";
import { authError, CODE, invalidParams } from "./rpc-error";

/**
 * What the simulated Deribit records about an account's use, served by `private/get_access_log`
 * and `private/get_transaction_log` in Deribit's shapes: each `public/auth` login (success or
 * failure, with the caller's address) and each order a trading client places (`private/buy`,
 * one fill, with the address it came from). Signed (`deri-hmac-sha256`) calls log no login: the
 * real exchange's behaviour there is unpublished (docs/exchanges.md), and keyshift's own admin
 * calls are signed.
 *
 * Deribit estimates a country and city per address; the local stack's addresses get a fixed
 * table, the published example's own "Local Country"/"Local Town" for keyshift's egress and the
 * consumer host, "Outside Country" for the outside address, none for any other.
 */
const PLACES: Record<string, { country: string; city: string }> = {
  [EGRESS_IP]: { country: "Local Country", city: "Local Town" },
  [CONSUMER_HOST_IP]: { country: "Local Country", city: "Local Town" },
  [OUTSIDE_IP]: { country: "Outside Country", city: "Outside Town" },
};

/** `get_transaction_log`'s `currency` enum (Deribit's reference). */
const CURRENCIES = new Set([
  "BTC",
  "ETH",
  "STETH",
  "ETHW",
  "USDC",
  "USDT",
  "EURR",
  "MATIC",
  "SOL",
  "XRP",
  "USYC",
  "PAXG",
  "BNB",
  "USDE",
]);
const INSTRUMENT = /^[A-Z0-9]{2,10}(_[A-Z0-9]{2,10})?(-[A-Z0-9]{1,12}){0,3}$/;

interface AccessEntry {
  id: number;
  timestamp: number;
  log: string;
  ip: string;
  country?: string;
  city?: string;
}

interface TransactionEntry {
  id: number;
  user_seq: number;
  user_id: number;
  username: string;
  currency: string;
  timestamp: number;
  type: string;
  instrument_name: string | null;
  amount: number;
  side: string;
  order_id: string | null;
  trade_id: string | null;
  ip: string;
  price: number;
  change: number;
  cashflow: number;
  balance: number;
  equity: number;
  commission: number;
  position: number;
  info: Record<string, unknown>;
}

export class DeribitActivityBook {
  private readonly access = new Map<string, AccessEntry[]>();
  private readonly transactions = new Map<string, TransactionEntry[]>();
  private nextId = 1;

  constructor(
    private readonly store: DeribitAccountStore,
    private readonly now: () => number,
  ) {}

  /**
   * `public/auth` with `grant_type: client_credentials`: a login, recorded on the key's account
   * as `success` or `failure` with the caller's address. An unknown client_id names no account:
   * refused, recorded nowhere. The tokens are not accepted back: the simulator's clients sign.
   */
  auth(params: Record<string, unknown>, callerIp: string): unknown {
    if (params.grant_type !== "client_credentials") {
      throw invalidParams("grant_type", "only client_credentials is simulated");
    }
    const clientId = typeof params.client_id === "string" ? params.client_id : "";
    const key = this.store.byClientId(clientId);
    if (!key || key.removed)
      throw authError(CODE.invalidCredentials, "invalid_credentials", "unknown client_id");
    const ok =
      params.client_secret === key.clientSecret && key.enabled && ipAllowed(key.ipWhitelist, callerIp);
    this.recordLogin(key.account, ok ? "success" : "failure", callerIp);
    if (!ok) throw authError(CODE.invalidCredentials, "invalid_credentials", "invalid credentials");
    return {
      access_token: randomBytes(24).toString("base64url"),
      expires_in: 900,
      refresh_token: randomBytes(24).toString("base64url"),
      scope: key.scope.join(" "),
      token_type: "bearer",
    };
  }

  /** `private/buy`: one market fill for the caller's account, from the caller's address. */
  buy(caller: SimKey, params: Record<string, unknown>, callerIp: string): unknown {
    const instrument = params.instrument_name;
    if (typeof instrument !== "string" || !INSTRUMENT.test(instrument))
      throw invalidParams("instrument_name", "instrument_name is required");
    const amount = Number(params.amount);
    if (!(amount > 0) || !Number.isFinite(amount)) throw invalidParams("amount", "amount must be positive");
    const account = this.store.account(caller.account);
    const orderId = `${instrument.split("-")[0]}-${this.nextId}`;
    const entry = this.transaction(account, {
      type: "trade",
      instrument_name: instrument,
      currency: currencyOf(instrument),
      amount,
      side: "open buy",
      order_id: orderId,
      trade_id: `${this.nextId}`,
      ip: callerIp,
    });
    return {
      order: {
        order_id: orderId,
        instrument_name: instrument,
        direction: "buy",
        amount,
        order_state: "filled",
      },
      trades: [{ trade_id: entry.trade_id, order_id: orderId, instrument_name: instrument, amount }],
    };
  }

  /** `private/get_access_log`: newest first; `count` 1–1000 (default 10), `offset` from 0. */
  accessLog(account: string, params: Record<string, unknown>): unknown {
    const offset = integer(params, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
    const count = integer(params, "count", 10, 1, 1000);
    const entries = [...(this.access.get(account) ?? [])].reverse();
    return { records_total: entries.length, data: entries.slice(offset, offset + count) };
  }

  /**
   * `private/get_transaction_log`: `currency` (required, Deribit's enum), `start_timestamp` and
   * `end_timestamp` (required, both included), `count` 1–250 (default 100), `query` (a type),
   * newest first; `continuation` the id the next page starts below, null on the last page.
   */
  transactionLog(account: string, params: Record<string, unknown>): unknown {
    const currency = params.currency;
    if (typeof currency !== "string" || !CURRENCIES.has(currency))
      throw invalidParams("currency", "currency must be one of Deribit's currencies");
    const start = integer(params, "start_timestamp", undefined, 0, Number.MAX_SAFE_INTEGER);
    const end = integer(params, "end_timestamp", undefined, 0, Number.MAX_SAFE_INTEGER);
    const count = integer(params, "count", 100, 1, 250);
    const below =
      params.continuation === undefined || params.continuation === null
        ? Number.POSITIVE_INFINITY
        : integer(params, "continuation", undefined, 0, Number.MAX_SAFE_INTEGER);
    const query = typeof params.query === "string" ? params.query : undefined;
    const matching = (this.transactions.get(account) ?? [])
      .filter((t) => t.currency === currency && t.timestamp >= start && t.timestamp <= end && t.id < below)
      .filter((t) => query === undefined || t.type === query)
      .reverse();
    const logs = matching.slice(0, count);
    const last = logs[logs.length - 1];
    return { logs, continuation: matching.length > count && last ? last.id : null };
  }

  /** For tests: a row of another type (a withdrawal, a settlement) as the exchange would write it. */
  record(accountName: string, entry: { type: string; currency: string; ip: string; amount?: number }): void {
    this.transaction(this.store.account(accountName), {
      type: entry.type,
      instrument_name: null,
      currency: entry.currency,
      amount: entry.amount ?? 1,
      side: "-",
      order_id: null,
      trade_id: null,
      ip: entry.ip,
    });
  }

  recordLogin(account: string, log: "success" | "failure", ip: string): void {
    const list = this.access.get(account) ?? [];
    list.push({ id: this.nextId++, timestamp: this.now(), log, ip, ...(PLACES[ip] ?? {}) });
    this.access.set(account, list);
  }

  private transaction(
    account: SimAccount,
    row: Pick<
      TransactionEntry,
      "type" | "instrument_name" | "currency" | "amount" | "side" | "order_id" | "trade_id" | "ip"
    >,
  ): TransactionEntry {
    const list = this.transactions.get(account.name) ?? [];
    const outgoing = row.type === "withdrawal" || row.type === "transfer";
    const entry: TransactionEntry = {
      ...row,
      id: this.nextId++,
      user_seq: list.length + 1,
      user_id: account.userId,
      username: account.name,
      timestamp: this.now(),
      price: 0,
      change: outgoing ? -row.amount : 0,
      cashflow: 0,
      balance: 0,
      equity: 0,
      commission: 0,
      position: 0,
      info: {},
    };
    list.push(entry);
    this.transactions.set(account.name, list);
    return entry;
  }
}

/** The settlement currency: the quote of a `BASE_QUOTE` pair, else the base (`BTC-PERPETUAL`). */
function currencyOf(instrument: string): string {
  const [base = "", quote] = (instrument.split("-")[0] ?? "").split("_");
  return quote ?? base;
}

/** A whole number within bounds: typed in a JSON-RPC body, a string in a GET query. */
function integer(
  params: Record<string, unknown>,
  name: string,
  fallback: number | undefined,
  min: number,
  max: number,
): number {
  const raw = params[name];
  if (raw === undefined && fallback !== undefined) return fallback;
  const value = typeof raw === "string" && /^\d{1,16}$/.test(raw) ? Number(raw) : raw;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidParams(name, `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}
