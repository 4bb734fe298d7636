import { isIP } from "node:net";

/**
 * Does an allow-list let `ip` in? Empty or absent means unrestricted; entries are IPv4 addresses or
 * CIDR blocks (`10.0.0.0/8`), the forms Deribit, Bybit and OKX accept. Written apart from the
 * core's rule (`src/core/ip-binding.ts`) on purpose: the exchange simulators, the in-memory
 * exchange and the simulation's oracle judge bindings with it, so a bug in the core's rule cannot
 * hide behind an oracle that shares it.
 */
export function ipAllowed(allowlist: readonly string[] | undefined, ip: string): boolean {
  if (!allowlist || allowlist.length === 0) return true;
  return allowlist.some((entry) => entryMatches(entry.trim(), ip));
}

function entryMatches(entry: string, ip: string): boolean {
  const [base, bitsText] = entry.split("/");
  if (base === undefined || isIP(base) !== 4 || isIP(ip) !== 4) return entry === ip;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(base) & mask) >>> 0 === (toInt(ip) & mask) >>> 0;
}

function toInt(ip: string): number {
  return ip.split(".").reduce((n, octet) => ((n << 8) | Number(octet)) >>> 0, 0);
}
