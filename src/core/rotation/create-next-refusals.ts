import type { Deps } from "../deps";
import { EgressNotBoundError, ExchangeKeyLimitError } from "../errors";
import { bindingFix, describeBinding, judgeBinding } from "../ip-binding";
import type { VersionRef } from "../model";
import type { ExchangeKey } from "../ports";
import { ledgerEntryId } from "../tokens";

/*
 * CreateNext's refusals (I3: never a third key for one secret): each reads what it needs and
 * throws `ExchangeKeyLimitError` naming the key, its ledger entry and what to run.
 */

/**
 * The rotation's half of restore's write-then-read (I3): with the lock taken, read the ledger entry
 * of the recorded previous key, the only key a restore may enable. `restoring`: a restore wrote
 * its intent and may enable it at any moment; `restored`: it is active again. Either way a new key
 * would be the secret's third. (The restore writes its intent, then reads the lock and records.)
 */
export async function refuseWhileRestored(
  deps: Pick<Deps, "ledger">,
  secretId: string,
  account: string,
  previous: VersionRef | undefined,
): Promise<void> {
  if (!previous) return;
  const entry = await deps.ledger.get(ledgerEntryId(account, previous.exchangeKeyId));
  if (entry?.status === "restoring") {
    throw new ExchangeKeyLimitError(
      `not creating a key for ${secretId}: a restore of its previous key ${entry.keyId} is in progress ` +
        `(ledger entry ${entry.entryId}); finish it with \`keyshift revocations restore ${entry.entryId} --reason "..."\`, ` +
        `then, once its consumer moved to the current key, \`keyshift revocations retry ${entry.entryId}\` and rotate again`,
    );
  }
  if (entry?.status === "restored") {
    throw new ExchangeKeyLimitError(
      `not creating a key for ${secretId}: its previous key ${entry.keyId} was restored (ledger entry ${entry.entryId}) ` +
        "and authenticates again, so the secret already has two active keys. Once the consumer that needed it " +
        `moved to the current key, run \`keyshift revocations retry ${entry.entryId}\`, then rotate again`,
    );
  }
}

/**
 * Any other key of this secret still active — an aborted attempt's key whose removal waits in the
 * ledger, an earlier previous key the gate holds — makes a new key at least the secret's third (I3),
 * whatever the account's limit. The ledger says whose a listed key is; the listing says it lives.
 */
export async function refuseWhileOwnKeysActive(
  deps: Pick<Deps, "ledger">,
  ctx: { secretId: string; account: string; label: string; current: string },
  keys: readonly { keyId: string; status: string; label?: string }[],
): Promise<void> {
  const candidates = keys.filter(
    (k) => k.status === "active" && k.keyId !== ctx.current && k.label !== ctx.label,
  );
  const entries = await Promise.all(
    candidates.map((k) => deps.ledger.get(ledgerEntryId(ctx.account, k.keyId))),
  );
  const own = entries.filter((e) => e && e.secretId === ctx.secretId && e.status !== "revoked");
  if (own.length === 0) return;
  throw new ExchangeKeyLimitError(
    `not creating a key for ${ctx.secretId}: it still holds ${own
      .map(
        (e) =>
          `${e?.keyId} (ledger entry ${e?.entryId}: ${e?.status}, ${e?.attempts} attempt(s)${e?.needsOperator ? ", needs operator" : ""})`,
      )
      .join(", ")} besides its current key; a new key would be its third. Let the sweeper finish it or ` +
      `\`keyshift revocations retry <entry>\`, then rotate again`,
  );
}

/** Current + previous + a new one would be a third key for one secret (I3), whatever the account limit. */
export async function refuseWhilePreviousActive(
  deps: Pick<Deps, "ledger">,
  ctx: { secretId: string; account: string; current: string; previous: VersionRef | undefined },
  keys: readonly ExchangeKey[],
): Promise<void> {
  const { secretId, account, previous } = ctx;
  if (!previous || previous.exchangeKeyId === ctx.current) return;
  if (!keys.some((k) => k.keyId === previous.exchangeKeyId && k.status === "active")) return;
  throw new ExchangeKeyLimitError(
    `secret ${secretId} still holds its previous key ${previous.exchangeKeyId} ` +
      `(${await ledgerStatus(deps, account, previous.exchangeKeyId)}); a new key would be its third. ` +
      "Revoke it first (`keyshift revocations retry` or `keyshift force-revoke`), then rotate again.",
  );
}

/**
 * The account's own limit (I3: never more than the exchange allows), this rotation's keys aside
 * (they were just revoked or refused). Where disabled keys count against the limit (Deribit), a
 * disabled key awaiting removal takes a slot.
 */
export async function refuseAtAccountLimit(
  deps: Pick<Deps, "ledger" | "exchange">,
  ctx: { account: string; label: string; current: string },
  listing: { keys: readonly ExchangeKey[]; maxActiveKeys: number },
): Promise<void> {
  const { account } = ctx;
  const caps = await deps.exchange.capabilities(account);
  const counted = listing.keys.filter(
    (k) => (caps.limitCounts === "all" || k.status === "active") && k.label !== ctx.label,
  );
  if (counted.length < listing.maxActiveKeys) return;
  const others = counted.filter((k) => k.keyId !== ctx.current);
  const described = await Promise.all(
    others.map(
      async (k) =>
        `${k.keyId} (${k.status === "disabled" ? "disabled, " : ""}${await ledgerStatus(deps, account, k.keyId)})`,
    ),
  );
  throw new ExchangeKeyLimitError(
    `exchange account ${account} already holds ${counted.length} of ${listing.maxActiveKeys} ` +
      `${caps.limitCounts === "all" ? `keys (disabled keys count on ${caps.exchange})` : "active keys"}; ` +
      `unrevoked: ${described.join(", ") || "none besides current"}. ` +
      "Revoke it first (`keyshift revocations retry` or `keyshift force-revoke`), then rotate again.",
  );
}

export async function ledgerStatus(
  deps: Pick<Deps, "ledger">,
  account: string,
  keyId: string,
): Promise<string> {
  const entry = await deps.ledger.get(ledgerEntryId(account, keyId));
  return entry
    ? `ledger ${entry.status}, ${entry.attempts} attempt(s)${entry.needsOperator ? ", needs operator" : ""}`
    : "not in the ledger";
}

/**
 * The new key copies the replaced key's IP binding, and keyshift verifies it by calling the
 * exchange with it from its own egress: a binding that does not let the egress in would make every
 * new key fail verification, so the rotation refuses before creating one, naming the fix.
 */
export function refuseUnusableBinding(
  deps: Pick<Deps, "egressIps">,
  ctx: { secretId: string; account: string; current: string },
  ipAllowlist: readonly string[] | undefined,
): void {
  const verdict = judgeBinding(ipAllowlist, deps.egressIps);
  if (verdict.state !== "no-egress" && verdict.state !== "lacks-egress") return;
  throw new EgressNotBoundError(
    `not creating a key for ${ctx.secretId}: its current key ${ctx.current} on ${ctx.account} is ` +
      `${describeBinding(verdict)}; the new key would copy that binding and could not be verified. ` +
      `Fix: ${bindingFix(verdict, ctx.current)}, then rotate again`,
  );
}
