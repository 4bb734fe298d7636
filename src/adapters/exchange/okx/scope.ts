import { randomInt } from "node:crypto";

/**
 * OKX key scope <-> keyshift's normalized permission list, IP allow-lists, and per-key passphrases.
 *
 * OKX describes a key by `perm`, a comma-separated list of `read_only`, `trade` and `withdraw`
 * ("Get account configuration"). Every key reads: the sub-account create example asks
 * `"perm":"trade"` and answers `"read_only,trade"`, so keyshift's form always holds `read_only`,
 * plus the sorted grants beyond reading. A sub-account key can be created with `read_only` or
 * `trade` only (create reference; 59504 "The sub account does not support the withdrawal
 * function"), so a `withdraw` key can be listed but never made again by keyshift.
 */

export const PERM_READ = "read_only";
export const PERM_TRADE = "trade";
export const PERM_WITHDRAW = "withdraw";

/** What the create endpoint's `perm` accepts. */
const CREATABLE = [PERM_READ, PERM_TRADE] as const;
/** "Support up to 20 addresses" (create and modify references; 59503 beyond). */
export const MAX_IPS = 20;

/** The normalized list of a key as OKX reports it (`perm`). */
export function normalizeScope(perm: string): string[] {
  const tokens = perm
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  return [...new Set([PERM_READ, ...tokens])].sort();
}

/**
 * The part of a normalized scope that grants something beyond reading, for comparisons: a key
 * that is granted more of it than asked is broader; one granted less is not the key it replaces.
 */
export function grantingPart(normalized: readonly string[]): string[] {
  return [...new Set(normalized.filter((p) => p !== PERM_READ))].sort();
}

/** The `perm` create parameter for a normalized list, or `problem` when OKX cannot make it. */
export function toCreatePerm(normalized: readonly string[]): { perm: string } | { problem: string } {
  const unknown = normalized.filter((p) => !(CREATABLE as readonly string[]).includes(p));
  if (unknown.includes(PERM_WITHDRAW)) {
    return { problem: "a sub-account key cannot be given withdraw by API (OKX 59504); make it by hand" };
  }
  if (unknown.length > 0) return { problem: `unknown OKX permission(s): ${unknown.join(", ")}` };
  if (normalized.length === 0) return { problem: `at least ${PERM_READ} is required` };
  // As the reference's create example sends it: the one grant, reading implied.
  return { perm: normalized.includes(PERM_TRADE) ? PERM_TRADE : PERM_READ };
}

/** A listed `ip` as an allow-list: comma-separated, "" meaning unbound; sorted, unique. */
export function normalizeIps(ip: string | undefined): string[] {
  const all = (ip ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  return [...new Set(all)].sort();
}

/** The `ip` create parameter for an allow-list, or `problem` when it cannot be sent as is. */
export function toIpParameter(ipAllowlist: readonly string[] | undefined): { ip?: string; problem?: string } {
  if (!ipAllowlist || ipAllowlist.length === 0) return {};
  const ips = [...new Set(ipAllowlist)].sort();
  if (ips.length > MAX_IPS) {
    return {
      problem: `OKX binds at most ${MAX_IPS} IP addresses to a key; the allow-list has ${ips.length}`,
    };
  }
  for (const entry of ips) {
    if (!/^[0-9A-Fa-f:./]{2,64}$/.test(entry)) {
      return {
        problem: `IP allow-list entry "${entry}" is not an address OKX's comma-separated ip can carry`,
      };
    }
  }
  return { ip: ips.join(",") };
}

const LOWER = "abcdefghijklmnopqrstuvwxyz";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS = "0123456789";
/** Special characters that need no escaping in a JSON string or an HTTP header. */
const SPECIAL = "!#$%*+-.=?@^_";
const PASSPHRASE_LENGTH = 32;

/**
 * A fresh passphrase for a new key, at the top of OKX's rule ("8 to 32 alphanumeric characters
 * containing at least 1 number, 1 uppercase letter, 1 lowercase letter and 1 special character"):
 * 32 characters from a CSPRNG, one of each class guaranteed, in a random order.
 */
export function generatePassphrase(): string {
  const pick = (set: string) => set.charAt(randomInt(set.length));
  const all = LOWER + UPPER + DIGITS + SPECIAL;
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SPECIAL)];
  while (chars.length < PASSPHRASE_LENGTH) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  return chars.join("");
}

/** Does a passphrase meet OKX's published rule? (The simulator enforces it; 59505 otherwise.) */
export function passphraseFormatOk(passphrase: string): boolean {
  return (
    passphrase.length >= 8 &&
    passphrase.length <= 32 &&
    /[0-9]/.test(passphrase) &&
    /[A-Z]/.test(passphrase) &&
    /[a-z]/.test(passphrase) &&
    /[^A-Za-z0-9]/.test(passphrase) &&
    /^[\x21-\x7e]+$/.test(passphrase)
  );
}
