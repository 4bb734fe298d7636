import { ExchangeKeyLimitError, ExchangePermanentError, ExchangeRetryableError } from "../../../core/errors";
import type { CreateKeyInput, ExchangeKey } from "../../../core/ports/exchange";
import { scrub, withinBudget } from "../http";
import type { GateConfig } from "./admin-secret";
import { type CallContext, type GateClient, type GateSigner, type Refusal, where } from "./client";
import { listSubKeys, toExchangeKey } from "./listing";
import { normalizeIps, normalizeScope } from "./scope";
import type { SubAccountKey } from "./wire";

const shown = (list: readonly string[], none: string) => list.join(", ") || none;

/**
 * The created key as answered, then as listed: exactly the name, scope and binding asked. Broader
 * and narrower are both refused; the key carries the rotation's label, so the abort removes it.
 */
export async function confirmCreated(
  client: GateClient,
  ctx: CallContext,
  signer: GateSigner,
  input: CreateKeyInput,
  created: SubAccountKey,
  budget: { budgetMs: number; now: () => number },
): Promise<ExchangeKey> {
  const wanted = [...new Set(input.permissions)].sort();
  const wantedIps = normalizeIps(input.ipAllowlist);
  const orphan = `key ${created.key} (label ${input.label}) was created; keyshift's abort removes it by its label`;
  const check = (what: string, perms: string[], ips: string[]) => {
    if (perms.join() === wanted.join() && ips.join() === wantedIps.join()) return;
    const extra = perms.filter((p) => !wanted.includes(p));
    const broader = extra.length > 0 ? ` (broader than the replaced key: ${extra.join(", ")})` : "";
    throw new ExchangePermanentError(
      scrub(
        `${where(ctx)}: ${what} [${shown(perms, "no permission")}] bound to [${shown(ips, "any IP")}] instead of [${shown(wanted, "no permission")}] bound to [${shown(wantedIps, "any IP")}]${broader}; ${orphan}`,
        ctx.secrets,
      ),
    );
  };
  // An answer that leaves perms or the whitelist out says nothing about them: the listing decides.
  if (created.perms) check("granted", normalizeScope(created.perms), normalizeIps(created.ip_whitelist));
  const listed = await withinBudget(async () => {
    const found = (await listSubKeys(client, ctx, signer)).find((key) => key.key === created.key);
    if (!found) throw new ExchangeRetryableError(`${where(ctx)}: ${orphan} but is not listed yet`);
    return toExchangeKey(ctx, found);
  }, budget);
  if (listed.label !== input.label) {
    throw new ExchangePermanentError(
      scrub(
        `${where(ctx)}: key ${created.key} was created but is listed with name "${listed.label}", not ${input.label}; remove it by its id`,
        ctx.secrets,
      ),
    );
  }
  check("listed with", listed.permissions, listed.ipAllowlist ?? []);
  return listed;
}

/**
 * Why Gate refused a create. No key-limit label is published: any refusal while the
 * sub-account's listing holds `maxKeys` keys is the key limit; anything else a permanent refusal.
 */
export async function explainCreateRefusal(
  client: GateClient,
  cfg: GateConfig,
  ctx: CallContext,
  signer: GateSigner,
  answer: Refusal,
): Promise<Error> {
  const code = { exchangeCode: answer.label };
  const held = (await listSubKeys(client, ctx, signer)).length;
  if (held >= cfg.maxKeys) {
    return Object.assign(
      new ExchangeKeyLimitError(
        `${answer.message}; sub-account ${cfg.userId} holds ${held} keys and is full (limit ${cfg.maxKeys}): remove one first`,
      ),
      code,
    );
  }
  return Object.assign(new ExchangePermanentError(answer.message, answer.status), code);
}
