import { isIP } from "node:net";
import { paramError } from "./errors";

/**
 * Bybit's rules for a sub-account key's scope, IP binding and lifetime, as published in v5
 * "Create Sub UID API Key" and "Get Sub Account All API Keys".
 */

/** What a sub-account key may be granted, per group (the create page's examples). */
export const SUB_KEY_CATALOGUE: Readonly<Record<string, readonly string[]>> = {
  ContractTrade: ["Order", "Position"],
  Spot: ["SpotTrade"],
  Options: ["OptionsTrade"],
  Wallet: ["AccountTransfer", "SubMemberTransferList"],
  Exchange: ["ExchangeHistory"],
  Earn: ["Earn"],
};
/** Listed for every key; "not applicable to sub account, always []" or deprecated. */
const ALWAYS_EMPTY = ["CopyTrading", "BlockTrade", "NFT", "Affiliate"];
/** Deprecated on create: "the system will automatically add this permission" for a UTA account. */
const SYSTEM_GROUP = "Derivatives";

/** Master keys manage sub-accounts' keys only with one of these (the create/delete pages' tips). */
export const MASTER_MANAGE_PERMISSIONS = ["AccountTransfer", "SubMemberTransfer", "Withdraw"];
/** A sub key deleting itself needs one of these. */
export const SUB_SELF_DELETE_PERMISSIONS = ["AccountTransfer", "SubMemberTransferList"];

/** "No ip bound api key will be invalid after 90 days." */
export const UNBOUND_LIFETIME_MS = 90 * 24 * 3600 * 1000;
const DAY_MS = 24 * 3600 * 1000;

export type Permissions = Record<string, string[]>;

/** The full permission object Bybit lists: every group present, empty ones as `[]`. */
export function listedPermissions(granted: Permissions, uta: boolean): Permissions {
  const out: Permissions = {};
  for (const group of Object.keys(SUB_KEY_CATALOGUE)) out[group] = [...(granted[group] ?? [])];
  out[SYSTEM_GROUP] = uta ? ["DerivativesTrade"] : [];
  for (const group of ALWAYS_EMPTY) out[group] = [];
  return out;
}

/** Validates the `permissions` create parameter; returns the requestable groups granted. */
export function parsePermissions(value: unknown): Permissions {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw paramError("permissions must be an object of permission groups");
  }
  const granted: Permissions = {};
  for (const [group, names] of Object.entries(value)) {
    if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) {
      throw paramError(`permissions.${group} must be an array of strings`);
    }
    if (group === SYSTEM_GROUP) continue;
    const allowed = SUB_KEY_CATALOGUE[group];
    if (!allowed) {
      if (ALWAYS_EMPTY.includes(group) && names.length === 0) continue;
      throw paramError(`permission group ${group} is not available to a sub account key`);
    }
    const unknown = (names as string[]).filter((n) => !allowed.includes(n));
    if (unknown.length > 0) throw paramError(`unknown ${group} permission(s): ${unknown.join(", ")}`);
    if (new Set(names).size !== names.length) throw paramError(`permissions.${group} repeats a permission`);
    if (names.length > 0) granted[group] = [...(names as string[])];
  }
  if (Object.keys(granted).length === 0) {
    throw paramError(`one of ${Object.keys(SUB_KEY_CATALOGUE).join(", ")} must be passed`);
  }
  return granted;
}

/** `ips`: a comma-separated string (an array is accepted too); absent, "" or "*" means no binding. */
export function parseIps(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const entries = typeof value === "string" ? value.split(",") : Array.isArray(value) ? value : undefined;
  if (!entries || entries.some((e) => typeof e !== "string")) {
    throw paramError('ips must be a comma-separated string such as "192.168.0.1,192.168.0.2"');
  }
  const ips = (entries as string[]).map((e) => e.trim()).filter(Boolean);
  if (ips.length === 0 || (ips.length === 1 && ips[0] === "*")) return [];
  const bad = ips.filter((ip) => isIP(ip) === 0);
  if (bad.length > 0) throw paramError(`ips entries must be IP addresses: ${bad.join(", ")}`);
  return [...new Set(ips)];
}

export function parseReadOnly(value: unknown): boolean {
  if (value !== 0 && value !== 1) throw paramError("readOnly must be 0 (read and write) or 1 (read only)");
  return value === 1;
}

/** Lifetime fields of a key at `nowMs`, as the sub-key list and query-api show them. */
export function lifetime(
  key: { createdAt: number; ips: readonly string[] },
  nowMs: number,
): { status: 1 | 2 | 3 | 4; expiredAt: string; deadlineDay: number; expired: boolean } {
  if (key.ips.length > 0) {
    // As in the docs' query-api example for an IP-bound key.
    return { status: 1, expiredAt: "1970-01-01T00:00:00Z", deadlineDay: -2, expired: false };
  }
  const expiresAt = key.createdAt + UNBOUND_LIFETIME_MS;
  const left = expiresAt - nowMs;
  const expired = left <= 0;
  return {
    status: expired ? 2 : left < 7 * DAY_MS ? 4 : 3,
    expiredAt: bybitTime(expiresAt),
    deadlineDay: Math.floor(left / DAY_MS),
    expired,
  };
}

/** Bybit's datetime format in these answers: ISO 8601 to the second, `Z`. */
export function bybitTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}
