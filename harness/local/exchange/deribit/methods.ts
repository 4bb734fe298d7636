import type { ExchangeEndpoint } from "../faults";
import { type DeribitAccountStore, levelOf, type SimKey } from "./accounts";
import type { DeribitActivityBook } from "./activity-log";
import { CODE, invalidParams, RpcError } from "./rpc-error";
import type { SecurityKeyBook } from "./security-keys";

export interface MethodContext {
  caller: SimKey;
  params: Record<string, unknown>;
  store: DeribitAccountStore;
  /** What the account's keys did: logins and transactions (`activity-log.ts`). */
  activity: DeribitActivityBook;
  /** The caller's address as the exchange sees it. */
  callerIp: string;
}

interface MethodSpec {
  /** Fault-injection and request-log name. */
  endpoint: ExchangeEndpoint;
  /** The scope group and minimum level (1 read, 2 read_write) the caller's key needs. */
  scope: [group: string, level: 1 | 2];
  /** Marked "TFA required" in Deribit's reference: confirmed by security key when the account asks. */
  securityKey: boolean;
  handle(ctx: MethodContext): unknown;
}

/** The private methods the simulator serves (key management, and the read calls keyshift and traders make). */
export const METHODS: Record<string, MethodSpec> = {
  "private/get_account_summary": {
    endpoint: "account",
    scope: ["account", 1],
    securityKey: false,
    handle: ({ caller, params, store }) => {
      const currency = requiredString(params, "currency");
      const account = store.account(caller.account);
      const base = {
        currency,
        balance: 0,
        equity: 0,
        available_funds: 0,
        margin_balance: 0,
        initial_margin: 0,
      };
      if (!bool(params, "extended")) return base;
      return {
        ...base,
        id: account.userId,
        username: account.name,
        system_name: account.name,
        type: "main",
        security_keys_enabled: account.totpSeed !== undefined,
      };
    },
  },
  "private/get_open_orders_by_currency": {
    endpoint: "account",
    scope: ["trade", 1],
    securityKey: false,
    handle: ({ params }) => {
      requiredString(params, "currency");
      return [];
    },
  },
  "private/get_access_log": {
    endpoint: "account",
    scope: ["account", 1],
    securityKey: false,
    handle: ({ caller, params, activity }) => activity.accessLog(caller.account, params),
  },
  "private/get_transaction_log": {
    endpoint: "account",
    scope: ["account", 1],
    securityKey: false,
    handle: ({ caller, params, activity }) => activity.transactionLog(caller.account, params),
  },
  "private/buy": {
    endpoint: "account",
    scope: ["trade", 2],
    securityKey: false,
    handle: ({ caller, params, activity, callerIp }) => activity.buy(caller, params, callerIp),
  },
  "private/list_api_keys": {
    endpoint: "listKeys",
    scope: ["account", 1],
    securityKey: true,
    handle: ({ caller, store }) => store.listKeys(caller).map(toWire),
  },
  "private/create_api_key": {
    endpoint: "createKey",
    scope: ["account", 2],
    securityKey: true,
    handle: ({ caller, params, store }) =>
      toWire(store.createKey(caller, { maxScope: params.max_scope, name: params.name })),
  },
  "private/edit_api_key": {
    endpoint: "editKey",
    scope: ["account", 2],
    securityKey: true,
    handle: ({ caller, params, store }) => {
      const enabled = params.enabled === undefined ? undefined : bool(params, "enabled");
      const edited = store.editKey(caller, keyId(params), {
        maxScope: params.max_scope,
        name: params.name,
        ...(enabled === undefined ? {} : { enabled }),
        ipWhitelist: params.ip_whitelist,
      });
      return toWire(edited);
    },
  },
  "private/disable_api_key": {
    endpoint: "disableKey",
    scope: ["account", 2],
    securityKey: true,
    handle: ({ caller, params, store }) => toWire(store.setEnabled(caller, keyId(params), false)),
  },
  "private/enable_api_key": {
    endpoint: "enableKey",
    scope: ["account", 2],
    securityKey: false,
    handle: ({ caller, params, store }) => toWire(store.setEnabled(caller, keyId(params), true)),
  },
  "private/remove_api_key": {
    endpoint: "removeKey",
    scope: ["account", 2],
    securityKey: false,
    handle: ({ caller, params, store }) => {
      store.removeKey(caller, keyId(params));
      return "ok";
    },
  },
};

/**
 * Runs an authenticated call: scope first, then the security-key confirmation if the account
 * requires it (which may answer with a challenge instead), then the method.
 */
export function runMethod(name: string, ctx: MethodContext, securityKeys: SecurityKeyBook): unknown {
  const spec = METHODS[name];
  if (!spec) throw new RpcError(CODE.methodNotFound, "Method not found");
  const [group, level] = spec.scope;
  if (levelOf(ctx.caller.scope, group) < level) {
    throw new RpcError(CODE.forbidden, "forbidden", {
      reason: `requires ${group}:${level === 2 ? "read_write" : "read"}`,
    });
  }
  if (spec.securityKey) {
    const account = ctx.store.account(ctx.caller.account);
    const challenge = securityKeys.check(account, ctx.caller.clientId, name, ctx.params);
    if (challenge) return challenge;
  }
  const { authorization_data: _code, challenge: _challenge, ...params } = ctx.params;
  return spec.handle({ ...ctx, params });
}

/** An API key as Deribit shows it; `client_secret` included, as in the published list example. */
function toWire(key: SimKey) {
  return {
    id: key.id,
    client_id: key.clientId,
    client_secret: key.clientSecret,
    max_scope: key.scope.join(" "),
    enabled: key.enabled,
    default: false,
    name: key.name,
    timestamp: key.timestamp,
    enabled_features: [],
    ip_whitelist: [...key.ipWhitelist],
  };
}

/** Parameters arrive typed in a JSON-RPC body and as strings in a GET query: accept both. */
function keyId(params: Record<string, unknown>): number {
  const value = params.id;
  const id = typeof value === "string" && /^\d{1,15}$/.test(value) ? Number(value) : value;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 0)
    throw invalidParams("id", "id must be an integer");
  return id;
}

function bool(params: Record<string, unknown>, name: string): boolean {
  const value = params[name];
  if (value === undefined) return false;
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw invalidParams(name, `${name} must be a boolean`);
}

function requiredString(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== "string" || value === "") throw invalidParams(name, `${name} is required`);
  return value;
}
