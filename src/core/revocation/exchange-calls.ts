import type { Deps } from "../deps";
import { ExchangeKeyNotFoundError, ExchangeRetryableError } from "../errors";
import type { LedgerEntry, VersionFingerprints } from "../model";
import type { ExchangeKey } from "../ports";

/** What makes a listing a listing of the account that held the key (see `proveAccount`). */
interface Anchor {
  /** Absent: nothing can prove it. */
  keyId?: string;
  what: string;
}

/** How a key was found gone: the exchange's own answer, confirmed by a listing of its account. */
export type GoneOutcome = "removed" | "not-found" | "confirmed-after-error" | "gone-before-disable";

/**
 * The exchange call of one revocation stage, confirmed by a listing: `disabled`, or how the key
 * is gone. Throws when the call failed or the listing does not confirm it.
 */
export async function exchangeEffect(
  entry: LedgerEntry,
  stage: "disable" | "remove",
  recorded: VersionFingerprints | undefined,
  deps: Pick<Deps, "exchange">,
): Promise<"disabled" | GoneOutcome> {
  // The secret's recorded current key (as the guard read it right before) is on the account that
  // holds its keys: a listing that shows it is a listing of that account. Without one, a listing
  // before the call must show the key itself.
  const current = recorded?.current?.exchangeKeyId;
  const anchor: Anchor = current
    ? { keyId: current, what: "its current key" }
    : (await deps.exchange.listKeys(entry.exchangeAccount)).keys.some((k) => k.keyId === entry.keyId)
      ? { keyId: entry.keyId, what: "the key itself, before the call" }
      : { what: "any key known to be on it" };
  if (stage === "disable") {
    return (await disableConfirmed(entry, anchor, deps)) === "disabled" ? "disabled" : "gone-before-disable";
  }
  return removeConfirmed(entry, anchor, deps);
}

/**
 * Disable, then list: disabled only if the listing shows the key disabled; a listing without the
 * key means it is already gone (settled as revoked by the caller). A lost answer is settled the same way.
 */
async function disableConfirmed(
  entry: LedgerEntry,
  anchor: Anchor,
  deps: Pick<Deps, "exchange">,
): Promise<"disabled" | "gone"> {
  let disableError: unknown;
  try {
    await deps.exchange.disableKey(entry.exchangeAccount, entry.keyId);
  } catch (err) {
    if (!(err instanceof ExchangeRetryableError) && !(err instanceof ExchangeKeyNotFoundError)) throw err;
    disableError = err;
  }
  const listing = await deps.exchange.listKeys(entry.exchangeAccount);
  const still = listing.keys.find((k) => k.keyId === entry.keyId);
  if (!still) {
    proveAccount(entry, listing.keys, anchor);
    return "gone";
  }
  if (still.status === "disabled") return "disabled";
  if (disableError) throw disableError;
  throw new ExchangeRetryableError(
    `exchange accepted disabling key ${entry.keyId} on ${entry.exchangeAccount}, but still lists it active`,
  );
}

/**
 * Remove, then list: the key is gone only if the listing no longer shows it. A timeout or 5xx on
 * the removal is settled the same way (the exchange may have acted before the answer was lost).
 */
async function removeConfirmed(
  entry: LedgerEntry,
  anchor: Anchor,
  deps: Pick<Deps, "exchange">,
): Promise<"removed" | "not-found" | "confirmed-after-error"> {
  let outcome: "removed" | "not-found" | "confirmed-after-error";
  let removalError: unknown;
  try {
    outcome = await deps.exchange.removeKey(entry.exchangeAccount, entry.keyId).catch((err: unknown) => {
      if (err instanceof ExchangeKeyNotFoundError) return "not-found" as const;
      throw err;
    });
  } catch (err) {
    // A permanent refusal (auth, wrong account, bad path) will not be settled by a listing.
    if (!(err instanceof ExchangeRetryableError)) throw err;
    removalError = err;
    outcome = "confirmed-after-error";
  }
  const listing = await deps.exchange.listKeys(entry.exchangeAccount);
  const still = listing.keys.find((k) => k.keyId === entry.keyId);
  if (still) {
    if (removalError) throw removalError;
    throw new ExchangeRetryableError(
      `exchange answered ${outcome} for key ${entry.keyId} on ${entry.exchangeAccount}, but still lists it (${still.status})`,
    );
  }
  proveAccount(entry, listing.keys, anchor);
  return outcome;
}

/**
 * I9: "gone" needs proof that the listing is of the account that held the key. An admin secret
 * naming a sibling sub-account answers "not found" and lists none of our keys: without this
 * check the entry would say revoked while the key still authenticates.
 */
function proveAccount(entry: LedgerEntry, keys: ExchangeKey[], anchor: Anchor): void {
  if (anchor.keyId === entry.keyId) return; // an earlier listing of the same account showed it
  if (anchor.keyId && keys.some((k) => k.keyId === anchor.keyId)) return;
  throw new ExchangeRetryableError(
    `the listing of ${entry.exchangeAccount} does not show ${anchor.what}${anchor.keyId ? ` ${anchor.keyId}` : ""}: ` +
      `the admin secret may name another account, so key ${entry.keyId} is not known to be gone. ` +
      `Check the exchange account's admin secret, then \`keyshift revocations retry ${entry.entryId}\``,
  );
}
