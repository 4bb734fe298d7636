import { bindingFix, describeBinding, judgeBinding } from "../ip-binding";
import type { ExchangeKey } from "../ports";
import type { Add, SecretFacts } from "./findings";

/** What the audit knows of the account's exchange that bears on bindings. */
export interface BindingFacts {
  /** keyshift's fixed egress IPs (absent: none). */
  egressIps: readonly string[] | undefined;
  /** `ExchangeCapabilities.unboundKeyExpiry` of the account's exchange. */
  unboundKeyExpiry: string | undefined;
}

/**
 * IP bindings of the current key (the exchange's listing): a binding that does not let keyshift's
 * egress in makes the next rotation refuse before it creates a key; a key without a binding on an
 * exchange that expires such keys stops working on the exchange's schedule, not keyshift's.
 */
export function judgeBindings(
  facts: Pick<SecretFacts, "versions">,
  keys: readonly ExchangeKey[],
  binding: BindingFacts,
  add: Add,
): void {
  const current = facts.versions?.current?.exchangeKeyId;
  const listed = keys.find((k) => k.keyId === current);
  if (!listed) return;
  const verdict = judgeBinding(listed.ipAllowlist, binding.egressIps);
  if (verdict.state === "no-egress" || verdict.state === "lacks-egress") {
    add(
      "ip-binding-lacks-egress",
      "high",
      `current key ${listed.keyId} is ${describeBinding(verdict)}: the next rotation will refuse before creating a key`,
      bindingFix(verdict, listed.keyId),
    );
  }
  if (verdict.state === "unbound" && binding.unboundKeyExpiry) {
    add(
      "unbound-key-expires",
      "medium",
      `current key ${listed.keyId} has no IP binding: ${binding.unboundKeyExpiry}, whatever keyshift's schedule; ` +
        "and a leaked copy works from any address",
      `bind key ${listed.keyId} on the exchange to the consumer hosts' IPs and keyshift's egress (docs/deploy.md, "Binding keys"); the next rotation copies the binding`,
    );
  }
}

/** The admin key refused keyshift's egress: nothing on this account can rotate or revoke. */
export function judgeAdminRefusal(
  facts: Pick<SecretFacts, "settings">,
  error: string,
  egressIps: readonly string[] | undefined,
  add: Add,
): void {
  const egress = egressIps && egressIps.length > 0 ? egressIps.join(", ") : undefined;
  add(
    "admin-ip-refused",
    "high",
    `the admin key of ${facts.settings.exchangeAccount} refused keyshift's address: ${error}`,
    egress
      ? `add keyshift's egress ${egress} (stack output KeyshiftEgressIps) to the admin key's IP binding on the exchange`
      : "deploy keyshift with a fixed egress (`--param egress=managed`), then add its KeyshiftEgressIps to the admin key's IP binding",
  );
}
