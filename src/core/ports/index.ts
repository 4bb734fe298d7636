/** The ports the core owns: each adapter in src/adapters, and each in-memory one in harness/memory, implements one. */
export type { Alerts, AuditLog } from "./audit";
export { type Clock, systemClock } from "./clock";
export type { ConsumerRegistry, PrincipalClaim, ReaderAlertLog, ReadHistory } from "./consumers";
export type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "./exchange";
export type { FailedAttempt, RevocationLedger } from "./ledger";
export type { RotationLock, RotationStore } from "./rotation";
export type { SecretPolicyStore, SecretStore, SecretVersionInfo } from "./secrets";
export type { MisuseAckStore, UsageStore } from "./usage";
