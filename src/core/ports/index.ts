/** The ports the core owns: each adapter in src/adapters, and each in-memory one in harness/memory, implements one. */
export type { ArchivePut, AuditArchive } from "./archive";
export type { Alerts, AuditLog } from "./audit";
export { type Clock, systemClock } from "./clock";
export type { ConsumerRegistry, PrincipalClaim, ReaderAlertLog, ReadHistory } from "./consumers";
export type { DeletionProof, DeletionProver } from "./deletion-prover";
export type {
  CreatedExchangeKey,
  CreateKeyInput,
  Exchange,
  ExchangeActivityPage,
  ExchangeActivityRow,
  ExchangeCapabilities,
  ExchangeKey,
  ExchangeKeyCredential,
} from "./exchange";
export type { FailedAttempt, RevocationLedger } from "./ledger";
export type { ManualTasks, TaskCallbacks } from "./manual";
export type { OperatorRequests } from "./operator-requests";
export type { BudgetAnswer, BudgetRule, RequestBudget } from "./request-budget";
export type { RotationLock, RotationStore, SettingsPage } from "./rotation";
export {
  type RotationSchedule,
  ScheduleExistsError,
  ScheduleNotFoundError,
  type ScheduleRetryPolicy,
  type ScheduleStore,
  type ScheduleSummary,
  type ScheduleTarget,
} from "./schedules";
export type { SecretPolicyStore, SecretStore, SecretVersionInfo } from "./secrets";
export type { ExchangeActivityStore, ExchangeCursor, MisuseAckStore, UsageStore } from "./usage";
