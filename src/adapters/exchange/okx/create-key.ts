import {
  ExchangeKeyLimitError,
  ExchangePermanentError,
  ExchangeRetryableError,
  safeExchangeCode,
} from "../../../core/errors";
import type { CreateKeyInput, ExchangeKey } from "../../../core/ports/exchange";
import { scrub, withinBudget } from "../http";
import type { OkxConfig } from "./admin-secret";
import { type CallContext, type OkxClient, type OkxSigner, type Refusal, where } from "./client";
import { listSubKeys, toExchangeKey } from "./listing";
import { grantingPart, normalizeIps, normalizeScope } from "./scope";
import { KEY_LIMIT_CODES } from "./wire";

/** The created key as answered, then as listed: exactly the label, scope and binding asked. */
export async function confirmCreated(
  client: OkxClient,
  ctx: CallContext,
  signer: OkxSigner,
  input: CreateKeyInput,
  created: { apiKey: string; perm: string; ip?: string | undefined },
  budget: { budgetMs: number; now: () => number },
): Promise<ExchangeKey> {
  const wanted = grantingPart(input.permissions);
  const orphan = `key ${created.apiKey} (label ${input.label}) was created; keyshift's abort removes it by its label`;
  const granted = grantingPart(normalizeScope(created.perm));
  if (granted.join() !== wanted.join()) {
    const extra = granted.filter((p) => !wanted.includes(p));
    const broader = extra.length > 0 ? ` (broader than the replaced key: ${extra.join(", ")})` : "";
    const shown = (list: string[]) => list.join(", ") || "read only";
    throw new ExchangePermanentError(
      scrub(
        `${where(ctx)}: granted [${shown(granted)}] instead of [${shown(wanted)}]${broader}; ${orphan}`,
        ctx.secrets,
      ),
    );
  }
  const listed = await withinBudget(async () => {
    const [found] = await listSubKeys(client, ctx, signer, created.apiKey);
    if (!found) throw new ExchangeRetryableError(`${where(ctx)}: ${orphan} but is not listed yet`);
    return toExchangeKey(ctx, found);
  }, budget);
  if (listed.label !== input.label) {
    // Found by id, not by label: an abort cannot find it, so the message must carry the id.
    throw new ExchangePermanentError(
      scrub(
        `${where(ctx)}: key ${created.apiKey} was created but is listed with label "${listed.label}", not ${input.label}; remove it by its id`,
        ctx.secrets,
      ),
    );
  }
  const wantedIps = normalizeIps((input.ipAllowlist ?? []).join(",")).join();
  if (
    grantingPart(listed.permissions).join() !== wanted.join() ||
    (listed.ipAllowlist ?? []).join() !== wantedIps
  ) {
    throw new ExchangePermanentError(
      scrub(
        `${where(ctx)}: listed with [${listed.permissions.join(", ")}] bound to [${(listed.ipAllowlist ?? []).join(", ") || "any IP"}], not what was asked; ${orphan}`,
        ctx.secrets,
      ),
    );
  }
  return listed;
}

/**
 * Why OKX refused a create: its own limit codes (59501, 59602), or any refusal while the
 * sub-account's listing holds its maximum, is the key limit; anything else a permanent refusal.
 */
export async function explainCreateRefusal(
  client: OkxClient,
  cfg: OkxConfig,
  ctx: CallContext,
  signer: OkxSigner,
  answer: Refusal,
): Promise<Error> {
  const code = { exchangeCode: safeExchangeCode(answer.code, ctx.secrets) };
  const held = KEY_LIMIT_CODES.includes(answer.code)
    ? undefined
    : (await listSubKeys(client, ctx, signer)).length;
  // OKX's own limit codes, or any refusal while the sub-account holds its maximum.
  if (held === undefined || held >= cfg.maxKeys) {
    const count = held === undefined ? "" : ` holds ${held} keys and`;
    return Object.assign(
      new ExchangeKeyLimitError(
        `${answer.message}; sub-account ${cfg.subAcct}${count} is full (limit ${cfg.maxKeys}): remove one first`,
      ),
      code,
    );
  }
  return Object.assign(new ExchangePermanentError(answer.message, answer.status), code);
}
