/**
 * IP bindings: a key bound to IP addresses authenticates only from them, so every key keyshift
 * calls the exchange with — the admin key, and the new key it verifies — must let keyshift's own
 * egress in. On AWS a Lambda's address is not fixed; `--param egress=managed|existing` gives the
 * exchange-calling functions fixed egress IPs (`KEYSHIFT_EGRESS_IPS`, `Deps.egressIps`).
 *
 * A new key copies the binding of the key it replaces (never broader), so the replaced key's
 * binding decides whether the new key can be verified: judged here, before anything is created.
 */

/** Does an allow-list let `ip` in? Empty or absent: unbound, every address. Entries: IPv4 or CIDR. */
export function ipAllowed(allowlist: readonly string[] | undefined, ip: string): boolean {
  if (!allowlist || allowlist.length === 0) return true;
  return allowlist.some((entry) => entryMatches(entry.trim(), ip));
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function toInt(ip: string): number | undefined {
  const m = IPV4.exec(ip);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((n, o) => ((n << 8) | o) >>> 0, 0);
}

function entryMatches(entry: string, ip: string): boolean {
  const [base = "", bitsText] = entry.split("/");
  const network = toInt(base);
  const address = toInt(ip);
  if (network === undefined || address === undefined) return entry === ip;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (network & mask) >>> 0 === (address & mask) >>> 0;
}

export type BindingVerdict =
  /** No binding: the key works from anywhere (and some exchanges expire such keys). */
  | { state: "unbound" }
  /** Bound, and every egress IP of keyshift is on it. */
  | { state: "egress-allowed"; ips: string[] }
  /** Bound, but keyshift has no fixed egress: its calls come from addresses no binding can name. */
  | { state: "no-egress"; ips: string[] }
  /** Bound, and these egress IPs are not on it. */
  | { state: "lacks-egress"; ips: string[]; missing: string[] };

/** How a key's binding stands against keyshift's egress (`egressIps` absent or empty: none). */
export function judgeBinding(
  allowlist: readonly string[] | undefined,
  egressIps: readonly string[] | undefined,
): BindingVerdict {
  if (!allowlist || allowlist.length === 0) return { state: "unbound" };
  const ips = [...allowlist];
  if (!egressIps || egressIps.length === 0) return { state: "no-egress", ips };
  const missing = egressIps.filter((ip) => !ipAllowed(allowlist, ip));
  return missing.length === 0 ? { state: "egress-allowed", ips } : { state: "lacks-egress", ips, missing };
}

/** One line for `status`, `list` and the audit. */
export function describeBinding(verdict: BindingVerdict): string {
  switch (verdict.state) {
    case "unbound":
      return "unbound (works from any address)";
    case "egress-allowed":
      return `bound to ${verdict.ips.join(", ")}; keyshift's egress is on it`;
    case "no-egress":
      return `bound to ${verdict.ips.join(", ")}; keyshift has NO fixed egress, so it cannot call the exchange with this key`;
    case "lacks-egress":
      return `bound to ${verdict.ips.join(", ")}; LACKS keyshift's egress ${verdict.missing.join(", ")}`;
  }
}

/** What fixes a binding that keyshift cannot use (`no-egress` or `lacks-egress`). */
export function bindingFix(verdict: BindingVerdict, keyId: string): string {
  if (verdict.state === "no-egress") {
    return (
      "deploy keyshift with a fixed egress (`--param egress=managed`, or `existing` with your NAT's IPs), " +
      `then add the stack output KeyshiftEgressIps to key ${keyId}'s IP binding on the exchange (docs/deploy.md, "Binding keys")`
    );
  }
  if (verdict.state === "lacks-egress") {
    return `add ${verdict.missing.join(", ")} (keyshift's egress, stack output KeyshiftEgressIps) to key ${keyId}'s IP binding on the exchange`;
  }
  return "nothing to fix";
}
