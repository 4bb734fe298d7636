import { ExchangePermanentError } from "../../core/errors";

/**
 * The firm's read-only observer key of a Bybit or OKX sub-account (`observer` in the admin secret,
 * docs/misuse.md): the hourly pull reads executions with it, and nothing else in keyshift may see
 * it as one of the account's keys — never an orphan, never judged, never removed.
 */

/** The listing without the observer key, which takes one of the account's `maxKeys` slots. */
export function withoutObserver<K extends { apiKey: string }>(
  listed: readonly K[],
  observerKeyId: string | undefined,
  maxKeys: number,
): { keys: K[]; maxActiveKeys: number } {
  return {
    keys: listed.filter((key) => key.apiKey !== observerKeyId),
    maxActiveKeys: observerKeyId ? maxKeys - 1 : maxKeys,
  };
}

/** Throws when `keyId` is the observer key: keyshift never removes it. */
export function refuseObserverRemoval(keyId: string, observerKeyId: string | undefined, where: string): void {
  if (keyId !== observerKeyId) return;
  throw new ExchangePermanentError(
    `${where}: key ${keyId} is the firm's observer key (admin secret "observer"); keyshift never removes it`,
  );
}

/** What the hourly pull cannot read for want of an observer key (`Exchange.activityGaps`). */
export function observerGaps(cfg: { observer?: unknown }, what: "executions" | "fills"): string[] {
  if (cfg.observer) return [];
  return [
    `${what} are not read: the admin secret has no "observer" (a read-only key of the sub-account, bound to keyshift's egress); only transfers are`,
  ];
}
