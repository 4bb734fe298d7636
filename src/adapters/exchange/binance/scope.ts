/**
 * Binance sub-account key scope <-> keyshift's normalized permission list.
 *
 * Binance describes a sub-account key by five booleans ("Create Sub-account API Key (For Master
 * Account)": `canTrade` Spot & Margin trading, `canMarginLoanRepay`, `canFuturesTrade`,
 * `canUniversalTransfer`, `canVanillaOptions`, each "default false"); every key can read ("After
 * creating the API key, the default restrictions is Enable Reading"). keyshift's form is the
 * sorted names of the flags that are true, plus `enableReading`, so no key's list is empty.
 *
 * Withdrawal is not among the flags: no key this API creates can withdraw, and a replaced key that
 * could (`enableWithdrawals`, set on the website) cannot be copied — it is refused, never narrowed
 * silently, so an operator decides.
 */

export const READING = "enableReading";
export const PERMISSION_FLAGS = [
  "canTrade",
  "canMarginLoanRepay",
  "canFuturesTrade",
  "canUniversalTransfer",
  "canVanillaOptions",
] as const;
export type PermissionFlag = (typeof PERMISSION_FLAGS)[number];
export type PermissionFlags = Record<PermissionFlag, boolean>;

/** The normalized list of a key whose flags Binance reported (absent = false, the documented default). */
export function normalizeFlags(flags: Partial<Record<string, unknown>>): string[] {
  return [READING, ...PERMISSION_FLAGS.filter((flag) => flags[flag] === true)].sort();
}

/** The create flags for a normalized list, or `problem` when it cannot be expressed exactly. */
export function toCreateFlags(
  normalized: readonly string[],
): { flags: PermissionFlags } | { problem: string } {
  if (!normalized.includes(READING)) {
    return {
      problem: `"${READING}" is missing: every Binance key can read, so the list is not a Binance scope`,
    };
  }
  const flags = Object.fromEntries(PERMISSION_FLAGS.map((flag) => [flag, false])) as PermissionFlags;
  const seen = new Set<string>();
  for (const token of normalized) {
    if (seen.has(token)) return { problem: `"${token}" is repeated` };
    seen.add(token);
    if (token === READING) continue;
    if (!(PERMISSION_FLAGS as readonly string[]).includes(token)) {
      return {
        problem: `"${token}" is not one of ${PERMISSION_FLAGS.join(", ")} (Binance's sub-account key API cannot grant it)`,
      };
    }
    flags[token as PermissionFlag] = true;
  }
  return { flags };
}

/**
 * How a granted scope compares with the one asked for: `broader` names grants above what was asked
 * (never accepted), `narrower` what fell short (a key the consumers could not use). A token that is
 * not a known flag counts as broader.
 */
export function compareScopes(
  asked: readonly string[],
  granted: readonly string[],
): { broader: string[]; narrower: string[] } {
  return {
    broader: granted.filter((token) => !asked.includes(token)).sort(),
    narrower: asked.filter((token) => !granted.includes(token)).sort(),
  };
}

/** "IP address list, max 500 chars" (create, `ipAddress`). */
const MAX_IP_PARAMETER = 500;
const ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * The create's IP restriction for an allow-list: `status` 1 ("unrestricted") for none, else 2
 * ("restricted to trusted IPs") with the comma-separated `ipAddress`; `problem` when it cannot be
 * sent as is (Binance documents single addresses, not CIDR blocks).
 */
export function toIpRestriction(
  ipAllowlist: readonly string[] | undefined,
): { status: 1 } | { status: 2; ipAddress: string } | { problem: string } {
  if (!ipAllowlist || ipAllowlist.length === 0) return { status: 1 };
  const bad = ipAllowlist.find((ip) => !ADDRESS.test(ip));
  if (bad !== undefined) return { problem: `IP allow-list entry "${bad}" is not a single IP address` };
  const ipAddress = [...new Set(ipAllowlist)].sort().join(",");
  if (ipAddress.length > MAX_IP_PARAMETER) {
    return { problem: `the IP allow-list is ${ipAddress.length} characters; Binance takes at most 500` };
  }
  return { status: 2, ipAddress };
}

/** A listed IP list, sorted and unique; empty when the key is unrestricted. */
export function normalizeIps(restricted: boolean, ipList: readonly string[] | undefined): string[] {
  if (!restricted) return [];
  return [...new Set((ipList ?? []).map((ip) => ip.trim()).filter(Boolean))].sort();
}
