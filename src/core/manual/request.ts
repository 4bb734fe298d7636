import type { Deps } from "../deps";
import type { ExchangeKeySecret, KeyRequest } from "../model";
import { exchangeLabelFor } from "../tokens";

/**
 * What a person is asked to make: exactly the replaced key — its permissions and IP allow-list as
 * the exchange describes it (the key signs that call itself, where the exchange lets a key describe
 * itself), else as its value records them — under the rotation's label, with keyshift's egress
 * added to a bound key's allow-list (or keyshift could not verify the new key).
 */
export async function manualKeyRequest(
  deps: Pick<Deps, "exchange" | "egressIps">,
  rotationId: string,
  account: string,
  current: ExchangeKeySecret,
): Promise<KeyRequest> {
  const described = deps.exchange.describeOwnKey
    ? await deps.exchange.describeOwnKey(account, { keyId: current.keyId, secret: current.secret })
    : undefined;
  const egressIps = [...(deps.egressIps ?? [])];
  const bound = described ? (described.ipAllowlist ?? []) : (current.ipAllowlist ?? []);
  return {
    label: exchangeLabelFor(rotationId),
    permissions: [...(described?.permissions ?? current.permissions)].sort(),
    ipAllowlist: bound.length > 0 ? [...new Set([...bound, ...egressIps])] : [],
    egressIps,
  };
}
