/**
 * Bybit key scope <-> keyshift's normalized permission list.
 *
 * Bybit describes a key by `readOnly` (0/1 on create and query-api, a boolean in the sub-key list)
 * and a `permissions` object of groups, each an array of permission names
 * (`{"ContractTrade":["Order","Position"],"Spot":["SpotTrade"],...}`). keyshift's form is the sorted
 * `Group:Permission` pairs of every non-empty group plus exactly one access marker, `readOnly` or
 * `readWrite`, so a list that lost its marker cannot silently become a read-write key.
 *
 * `Derivatives` is assigned by Bybit from the account type (UTA or classic) and is deprecated as a
 * request parameter: it is listed but never sent. Groups Bybit documents as not applicable to
 * sub-accounts (BlockTrade, Affiliate, NFT, CopyTrading, Fiat*, ...) cannot be requested.
 */

export const ACCESS_READ_ONLY = "readOnly";
export const ACCESS_READ_WRITE = "readWrite";

/** Groups `POST /v5/user/create-sub-api` accepts (v5 "Create Sub UID API Key"). */
export const REQUESTABLE_GROUPS = ["ContractTrade", "Spot", "Options", "Wallet", "Exchange", "Earn"] as const;
/** Listed, but set by Bybit itself from the account type; deprecated on create. */
export const SYSTEM_GROUPS = ["Derivatives"] as const;
/**
 * Groups the create reference documents as granting nothing on a sub-account key: "Not
 * applicable to sub account, always `[]`" (BlockTrade, Affiliate, FiatP2P, FiatConvertBroker)
 * or "Deprecated, always `[]`" (NFT, CopyTrading). An echo of one is not a broader key: listed,
 * never sent, never compared (docs/exchanges.md, "What a create may echo").
 */
export const INERT_GROUPS = [
  "BlockTrade",
  "Affiliate",
  "FiatP2P",
  "FiatConvertBroker",
  "NFT",
  "CopyTrading",
] as const;
const UNCOMPARED_GROUPS: readonly string[] = [...SYSTEM_GROUPS, ...INERT_GROUPS];

const PAIR = /^([A-Za-z][A-Za-z0-9]*):([A-Za-z][A-Za-z0-9]*)$/;

export type BybitPermissions = Record<string, string[]>;

/** The normalized list of a key as Bybit reports it. */
export function normalizeScope(readOnly: boolean, permissions: BybitPermissions): string[] {
  const pairs = Object.entries(permissions).flatMap(([group, names]) =>
    names.map((name) => `${group}:${name}`),
  );
  return [...new Set(pairs)].sort().concat(readOnly ? ACCESS_READ_ONLY : ACCESS_READ_WRITE);
}

/** What a normalized list means on the wire; `problem` says why it cannot be expressed exactly. */
export function toCreateScope(
  normalized: readonly string[],
): { readOnly: 0 | 1; permissions: BybitPermissions } | { problem: string } {
  const markers = normalized.filter((p) => p === ACCESS_READ_ONLY || p === ACCESS_READ_WRITE);
  if (markers.length !== 1) {
    return { problem: `exactly one access marker (${ACCESS_READ_ONLY} or ${ACCESS_READ_WRITE}) is required` };
  }
  const permissions: BybitPermissions = {};
  for (const entry of normalized) {
    if (entry === markers[0]) continue;
    const match = PAIR.exec(entry);
    if (!match?.[1] || !match[2]) return { problem: `"${entry}" is not a Group:Permission pair` };
    const [, group, name] = match;
    if (UNCOMPARED_GROUPS.includes(group)) continue;
    if (!(REQUESTABLE_GROUPS as readonly string[]).includes(group)) {
      return { problem: `group ${group} cannot be requested for a sub-account key` };
    }
    const names = permissions[group] ?? [];
    if (names.includes(name)) return { problem: `"${entry}" is repeated` };
    permissions[group] = [...names, name];
  }
  if (Object.keys(permissions).length === 0) {
    return { problem: `Bybit requires at least one of ${REQUESTABLE_GROUPS.join(", ")}` };
  }
  return { readOnly: markers[0] === ACCESS_READ_ONLY ? 1 : 0, permissions };
}

/**
 * The part of a normalized scope keyshift asks for, for comparisons: what Bybit assigns itself
 * (Derivatives) and what grants nothing on a sub-account key (`INERT_GROUPS`) left out.
 * Everything else — the access marker and every requestable group, `Earn` included — counts:
 * an unasked `Earn:Earn` (Bybit's own create example grants it) is a broader key.
 */
export function requestedPart(normalized: readonly string[]): string[] {
  return normalized.filter((p) => !UNCOMPARED_GROUPS.some((g) => p.startsWith(`${g}:`))).sort();
}

/**
 * An IP list as Bybit lists it: `["*"]` (or nothing) means unbound; an entry may itself hold a
 * comma-separated list (the create parameter's form). Returns the bound addresses, sorted.
 */
export function normalizeIps(ips: readonly string[] | undefined): string[] {
  const all = (ips ?? []).flatMap((entry) => entry.split(",").map((ip) => ip.trim())).filter(Boolean);
  if (all.length === 0 || (all.length === 1 && all[0] === "*")) return [];
  return [...new Set(all)].sort();
}

/** The `ips` create parameter for an allow-list, or `problem` when it cannot be sent as is. */
export function toIpsParameter(ipAllowlist: readonly string[] | undefined): {
  ips?: string;
  problem?: string;
} {
  if (!ipAllowlist || ipAllowlist.length === 0) return {};
  for (const ip of ipAllowlist) {
    if (!/^[0-9A-Fa-f:./]{2,64}$/.test(ip)) {
      return {
        problem: `IP allow-list entry "${ip}" is not an address Bybit's comma-separated ips can carry`,
      };
    }
  }
  return { ips: [...new Set(ipAllowlist)].sort().join(",") };
}
