/**
 * The in-memory adapters: one per port, the world the simulation (harness/sim) decides on and the
 * unit tests run on. Each is proven equal to the production adapter by the same contract suite
 * (test/contract/ports/*.suite.ts, run by test/contract/ports.*.contract.test.ts against both), so a
 * verdict reached here transfers to DynamoDB and Secrets Manager. Beyond its port, an adapter may
 * offer arrange and inspection helpers (marked "not a port method") and fault injection (`faults`).
 */
export { InMemoryAuditArchive } from "./audit-archive";
export { InMemoryAuditLog } from "./audit-log";
export { FakeClock, InMemoryAlerts } from "./clock";
export { InMemoryConsumerRegistry } from "./consumer-registry";
export { type ExchangeCall, InMemoryExchange } from "./exchange";
export { InMemoryExchangeActivityStore } from "./exchange-activity-store";
export { awsError, type ErrorClass, Faults, ThrottlingException } from "./faults";
export { InMemoryManualTasks } from "./manual-tasks";
export { InMemoryOperatorRequests } from "./operator-requests";
export {
  InMemoryReaderAlertLog,
  InMemoryReadHistory,
  InMemorySecretPolicyStore,
  TEST_KEYSHIFT_READER,
} from "./read-policy";
export { type BudgetTable, InMemoryRequestBudget } from "./request-budget";
export { InMemoryRevocationLedger } from "./revocation-ledger";
export { InMemoryRotationStore } from "./rotation-store";
export { InMemoryScheduleStore } from "./scheduler";
export { InMemorySecretStore, type StageMoveCall } from "./secret-store";
export { InMemoryMisuseAcks, InMemoryUsageStore } from "./usage-store";
