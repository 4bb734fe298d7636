import type { GatePerm } from "./wire";

/**
 * Gate key scope <-> keyshift's normalized permission list, and IP allow-lists.
 *
 * A Gate key carries `perms`, a list of `{name, read_only}` (`SubAccountKeyPerms`): the function
 * (`wallet`, `spot` (spot and margin), `futures`, `delivery`, `earn`, `custody`, `options`,
 * `account`, `loan`, `margin`, `unified`, `copy`) and whether the key may only read it. keyshift's
 * form is one token per function, `<name>:read` or `<name>:write`, sorted: what the exchange
 * lists, nothing implied. A function not listed is not granted.
 */

export const GATE_FUNCTIONS = [
  "wallet",
  "spot",
  "futures",
  "delivery",
  "earn",
  "custody",
  "options",
  "account",
  "loan",
  "margin",
  "unified",
  "copy",
] as const;

const TOKEN = /^([a-z_]+):(read|write)$/;

/** The normalized list of a key as Gate reports it (`perms`); a function listed twice keeps its widest grant. */
export function normalizeScope(perms: readonly GatePerm[] | null | undefined): string[] {
  const level = new Map<string, "read" | "write">();
  for (const perm of perms ?? []) {
    if (!perm.name) continue;
    const wanted = perm.read_only === true ? "read" : "write";
    if (level.get(perm.name) !== "write") level.set(perm.name, wanted);
  }
  return [...level].map(([name, lvl]) => `${name}:${lvl}`).sort();
}

/** The `perms` create parameter for a normalized list, or `problem` when Gate cannot make it exactly. */
export function toCreatePerms(normalized: readonly string[]): { perms: GatePerm[] } | { problem: string } {
  const perms: GatePerm[] = [];
  const seen = new Set<string>();
  for (const token of [...new Set(normalized)].sort()) {
    const match = TOKEN.exec(token);
    const name = match?.[1];
    if (!match || !name || !(GATE_FUNCTIONS as readonly string[]).includes(name)) {
      return { problem: `unknown Gate permission "${token}" (expected <function>:read or <function>:write)` };
    }
    if (seen.has(name)) return { problem: `function ${name} is asked both read-only and read-write` };
    seen.add(name);
    perms.push({ name, read_only: match[2] === "read" });
  }
  if (perms.length === 0) return { problem: "at least one permission is required" };
  return { perms };
}

/** A listed `ip_whitelist` as an allow-list: sorted, unique; empty means unbound. */
export function normalizeIps(ips: readonly string[] | null | undefined): string[] {
  return [...new Set((ips ?? []).map((ip) => ip.trim()).filter(Boolean))].sort();
}

/** The `ip_whitelist` create parameter, or `problem` when an entry is not an address or CIDR. */
export function toIpWhitelist(
  ipAllowlist: readonly string[] | undefined,
): { ips: string[] } | { problem: string } {
  const ips = normalizeIps(ipAllowlist);
  for (const entry of ips) {
    if (!/^[0-9A-Fa-f:./]{2,64}$/.test(entry)) {
      return {
        problem: `IP allow-list entry "${entry}" is not an address or CIDR Gate's ip_whitelist can carry`,
      };
    }
  }
  return { ips };
}
