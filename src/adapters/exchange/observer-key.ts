import { ExchangePermanentError, type RotationStateError } from "../../core/errors";

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

/** An admin secret's token: 1 to 256 printable characters, no spaces (the adapters' own rule). */
const TOKEN = /^[\x21-\x7e]{1,256}$/;

/**
 * The admin secret's optional `observer`: an object of the named string fields, each a token, its
 * `apiKey` not the master's. `bad` names the field and why, never a value; `shape` is what the
 * object must look like.
 */
export function parseObserverKey<F extends string>(
  value: unknown,
  spec: { shape: string; fields: ReadonlyArray<readonly [F, string]>; masterKey: unknown },
  bad: (field: string, why: string) => RotationStateError,
): Record<F, string> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw bad('"observer"', `must be an object ${spec.shape} (a read-only key of the sub-account)`);
  }
  const o = value as Record<string, unknown>;
  const out = {} as Record<F, string>;
  for (const [field, why] of spec.fields) {
    const v = o[field];
    if (typeof v !== "string" || !TOKEN.test(v)) throw bad(`"observer.${field}"`, why);
    out[field] = v;
  }
  if (o.apiKey === spec.masterKey)
    throw bad('"observer.apiKey"', "must be a key of the sub-account, not the master key");
  return out;
}
