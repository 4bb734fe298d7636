import type * as z from "zod/mini";
import { ExchangePermanentError } from "../../../core/errors";
import type { ExchangeKey } from "../../../core/ports/exchange";
import type { DeribitAdminConfig } from "./admin-secret";
import { type RpcContext, whereOf } from "./rpc";
import { permissionsFromScope } from "./scope";
import type { DeribitApiKey } from "./wire";

/** Reading Deribit's answers into the port's shapes; never a value in an error. */

export function context(operation: string, account: string, admin: DeribitAdminConfig): RpcContext {
  return { operation, account, secrets: [admin.clientSecret] };
}

export function toExchangeKey(key: DeribitApiKey): ExchangeKey {
  const ips = key.ip_whitelist ?? [];
  return {
    keyId: key.client_id,
    label: key.name ?? "",
    permissions: permissionsFromScope(key.max_scope),
    ...(ips.length > 0 ? { ipAllowlist: [...ips] } : {}),
    status: key.enabled ? "active" : "disabled",
    createdAt: new Date(key.timestamp).toISOString(),
  };
}

export function parse<T>(ctx: RpcContext, schema: z.ZodMiniType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Field paths only, never values: a create_api_key answer holds the new secret.
  const fields = parsed.error.issues.map((issue) => issue.path.join(".") || "(root)").join(", ");
  throw new ExchangePermanentError(`${whereOf(ctx)}: unexpected answer shape from Deribit (${fields})`);
}
