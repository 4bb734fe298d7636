import { RotationStateError, SecretNotEnrolledError } from "./errors";
import type { ExchangeKeySecret, SecretSettings } from "./model";
import type {
  Alerts,
  AuditLog,
  Clock,
  ConsumerRegistry,
  Exchange,
  RevocationLedger,
  RotationLock,
  RotationStore,
  SecretStore,
} from "./ports";

/** Every port a use case may need; each use case takes the `Pick` it uses. */
export interface Deps {
  secrets: SecretStore;
  store: RotationStore;
  lock: RotationLock;
  consumers: ConsumerRegistry;
  ledger: RevocationLedger;
  exchange: Exchange;
  audit: AuditLog;
  alerts: Alerts;
  clock: Clock;
  /** Sweeper policy; also used when the workflow hands a failed revocation over. */
  revocation: { baseSeconds: number; capSeconds: number; maxAttempts: number; random: () => number };
  /**
   * The fixed egress IPs keyshift calls exchanges from (`--param egress=...`); absent or empty
   * without one. A key bound to IPs must let them in (`core/ip-binding.ts`).
   */
  egressIps?: readonly string[] | undefined;
}

export interface RotationRef {
  secretId: string;
  rotationId: string;
  /** The Step Functions execution running the step (fencing token of the lock, see `core/lock.ts`). */
  execution?: string | undefined;
}

/** Who writes a step's rotation record: its execution (the lock's and the record's fencing token). */
export function writerOf(ref: RotationRef): string {
  return ref.execution ?? ref.rotationId;
}

export async function requireSettings(store: RotationStore, secretId: string): Promise<SecretSettings> {
  const settings = await store.getSettings(secretId);
  if (!settings) {
    throw new SecretNotEnrolledError(
      `secret ${secretId} is not enrolled: run \`keyshift enroll ${secretId}\` first (it reads the entry of rotation.config.yml)`,
    );
  }
  return settings;
}

export { leaseSecondsFor } from "./rotation/lock";

/** Parses an exchange key secret; the error never echoes the value. */
export function parseKeySecret(secretId: string, versionId: string, value: string): ExchangeKeySecret {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new RotationStateError(`secret ${secretId} version ${versionId} is not JSON (value not shown)`);
  }
  const p = parsed as Partial<ExchangeKeySecret>;
  if (
    typeof p !== "object" ||
    p === null ||
    typeof p.account !== "string" ||
    typeof p.keyId !== "string" ||
    typeof p.secret !== "string" ||
    !Array.isArray(p.permissions)
  ) {
    throw new RotationStateError(
      `secret ${secretId} version ${versionId} is not an exchange key ({account, keyId, secret, permissions})`,
    );
  }
  return {
    account: p.account,
    keyId: p.keyId,
    secret: p.secret,
    ...(typeof p.passphrase === "string" ? { passphrase: p.passphrase } : {}),
    permissions: p.permissions.map(String),
    ...(Array.isArray(p.ipAllowlist) && p.ipAllowlist.length > 0
      ? { ipAllowlist: p.ipAllowlist.map(String) }
      : {}),
  };
}
