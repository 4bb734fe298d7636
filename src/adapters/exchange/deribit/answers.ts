import type * as z from "zod/mini";
import { ExchangePermanentError } from "../../../core/errors";
import type { ExchangeKey } from "../../../core/ports/exchange";
import { normalizedSeed } from "../../../core/secret-shapes";
import { fieldPaths } from "../http";
import type { DeribitAdminConfig } from "./admin-secret";
import { type RpcContext, whereOf } from "./rpc";
import { permissionsFromScope } from "./scope";
import type { DeribitApiKey } from "./wire";

/** Reading Deribit's answers into the port's shapes; never a value in an error. */

/** Every secret of the admin secret, scrubbed from anything Deribit echoes (the seed as stored and as shown). */
export function adminSecrets(admin: DeribitAdminConfig): string[] {
  return [admin.clientSecret, ...(admin.totpSeed ? [admin.totpSeed, normalizedSeed(admin.totpSeed)] : [])];
}

export function context(operation: string, account: string, admin: DeribitAdminConfig): RpcContext {
  return { operation, account, secrets: adminSecrets(admin) };
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
  const fields = fieldPaths(parsed.error.issues, ctx.secrets);
  throw new ExchangePermanentError(`${whereOf(ctx)}: unexpected answer shape from Deribit (${fields})`);
}
