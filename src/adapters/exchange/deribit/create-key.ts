import { ExchangePermanentError } from "../../../core/errors";
import type { CreatedExchangeKey, CreateKeyInput } from "../../../core/ports/exchange";
import { scrub } from "../http";
import type { AccountKeys } from "./account-keys";
import type { DeribitAdminConfig } from "./admin-secret";
import { parse, toExchangeKey } from "./answers";
import { adminHint } from "./refusals";
import { type RpcContext, whereOf } from "./rpc";
import { compareScopes, permissionsFromScope, samePermissions, scopeFromPermissions } from "./scope";
import type { SecurityKeys } from "./security-keys";
import { apiKeySchema, type DeribitApiKey } from "./wire";

const LABEL = /^[A-Za-z0-9_]{1,16}$/;
const IP_OR_CIDR = /^[0-9A-Fa-f:.]{2,45}(\/\d{1,3})?$/;

interface Creation {
  keys: SecurityKeys;
  account: AccountKeys;
  ctx: RpcContext;
  admin: DeribitAdminConfig;
}

/**
 * A new key with exactly the scope and IP allow-list asked for, or none:
 * 1. refuse what Deribit cannot express exactly (name rule, scope, IP entries), creating nothing;
 * 2. `create_api_key` (a refusal on a full account becomes `ExchangeKeyLimitError`);
 * 3. a key with no secret, a broader or narrower scope (a `<group>:none` echoed or dropped is
 *    neither: see `compareScopes`) or another name is removed again and refused;
 * 4. the IP allow-list is bound with `edit_api_key` before anyone but us holds the secret
 *    (create takes none); if that fails or binds another list, the key is removed and the call fails.
 */
export async function createDeribitKey(c: Creation, input: CreateKeyInput): Promise<CreatedExchangeKey> {
  const { scope, ips } = checkInput(c.ctx, input);
  let created: DeribitApiKey;
  try {
    const params = { max_scope: scope, name: input.label };
    const answer = await c.keys.call(c.ctx, c.admin, "private/create_api_key", params, adminHint);
    created = parse(c.ctx, apiKeySchema, answer);
  } catch (err) {
    throw await c.account.limitOr(c.ctx, c.admin, err);
  }
  const secret = created.client_secret ?? "";
  c.ctx.secrets.push(secret);
  const mismatch = mismatchOf(created, secret, scope, input.label);
  if (mismatch) {
    await c.account.discard(c.ctx, c.admin, created.id);
    throw new ExchangePermanentError(
      `${whereOf(c.ctx)}: Deribit created key ${scrub(created.client_id, c.ctx.secrets)} with ${mismatch}; removed it`,
    );
  }
  const final = ips.length > 0 ? await bindIps(c, created, scope, ips) : created;
  return { ...toExchangeKey({ ...final, name: input.label }), secret };
}

function checkInput(ctx: RpcContext, input: CreateKeyInput): { scope: string; ips: string[] } {
  const refuse = (why: string) => new ExchangePermanentError(`${whereOf(ctx)}: ${why}; nothing was created`);
  if (!LABEL.test(input.label)) {
    throw refuse("the label must be 1 to 16 letters, digits or underscores (Deribit's key name rule)");
  }
  const scope = scopeFromPermissions(input.permissions);
  if ("problem" in scope) throw refuse(`cannot express the permissions exactly: ${scope.problem}`);
  const ips = input.ipAllowlist ?? [];
  if (ips.some((ip) => !IP_OR_CIDR.test(ip)))
    throw refuse("the IP allow-list holds an entry that is no IP address");
  return { scope: scope.scope, ips };
}

function mismatchOf(
  created: DeribitApiKey,
  secret: string,
  scope: string,
  label: string,
): string | undefined {
  if (!secret) return "no client_secret";
  const { broader, narrower } = compareScopes(
    permissionsFromScope(scope),
    permissionsFromScope(created.max_scope),
  );
  if (broader.length > 0) return `a broader scope than asked (${broader.join(" ")})`;
  if (narrower.length > 0) return `a narrower scope than asked (lacks ${narrower.join(" ")})`;
  if (created.name !== undefined && created.name !== label) return "another name than asked";
  return undefined;
}

async function bindIps(
  c: Creation,
  created: DeribitApiKey,
  scope: string,
  ips: string[],
): Promise<DeribitApiKey> {
  try {
    const params = { id: created.id, max_scope: scope, ip_whitelist: ips };
    const answer = await c.keys.call(c.ctx, c.admin, "private/edit_api_key", params, adminHint);
    const edited = parse(c.ctx, apiKeySchema, answer);
    if (edited.id !== created.id || !samePermissions(edited.ip_whitelist ?? [], ips)) {
      throw new ExchangePermanentError(
        `${whereOf(c.ctx)}: edit_api_key did not bind exactly the IP allow-list`,
      );
    }
    return edited;
  } catch (err) {
    await c.account.discard(c.ctx, c.admin, created.id);
    throw err;
  }
}
