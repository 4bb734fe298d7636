import type { Deps } from "../deps";
import { ExchangeIpRefusedError, sanitizeErrorMessage } from "../errors";
import type { SecretFacts } from "./findings";

/**
 * Each exchange account's keys as the exchange lists them, asked once per account per audit; a
 * manual account has no listing (only a person sees its keys); a failure is the fact, not a throw.
 */
export function accountListings(
  deps: Pick<Deps, "exchange">,
): (account: string) => Promise<SecretFacts["exchange"]> {
  const listings = new Map<string, Promise<SecretFacts["exchange"]>>();
  return (account) => {
    let found = listings.get(account);
    if (!found) {
      found = deps.exchange
        .capabilities(account)
        .then(async (caps): Promise<SecretFacts["exchange"]> => {
          if (caps.keyManagement === "manual") return { manual: true };
          const [l, gaps] = await Promise.all([
            deps.exchange.listKeys(account),
            deps.exchange.activityGaps?.(account),
          ]);
          return {
            keys: l.keys,
            ...(caps.unboundKeyExpiry ? { unboundKeyExpiry: caps.unboundKeyExpiry } : {}),
            ...(caps.activityAttribution ? { activityAttribution: caps.activityAttribution } : {}),
            ...(gaps && gaps.length > 0 ? { activityGaps: gaps } : {}),
          };
        })
        .catch((err: unknown) => ({
          error: sanitizeErrorMessage(err, 200),
          ...(err instanceof ExchangeIpRefusedError ? { ipRefused: true } : {}),
        }));
      listings.set(account, found);
    }
    return found;
  };
}
