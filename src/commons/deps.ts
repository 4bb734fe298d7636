import type { DynamoRevocationLedger } from "../adapters/dynamodb/revocation-ledger";
import type { Deps } from "../core/deps";
import type {
  DeletionProver,
  ExchangeActivityStore,
  ManualTasks,
  MisuseAckStore,
  OperatorRequests,
  ReaderAlertLog,
  ReadHistory,
  TaskCallbacks,
  UsageStore,
} from "../core/ports";
import type { ReadPolicyDeps } from "../core/read-policy/sync";
import type { Config } from "./config";
import {
  alerts,
  audit,
  callbacks,
  clock,
  compose,
  consumers,
  egressIps,
  exchangeSide,
  keyshiftReaders,
  keyshiftWriters,
  ledger,
  lock,
  misuseAcks,
  policies,
  readerAlerts,
  readHistory,
  requests,
  revocation,
  secrets,
  store,
  tasks,
  usage,
} from "./wiring";
import { exchange } from "./wiring-exchange";

export interface AppDeps extends Deps, ReadPolicyDeps {
  ledger: DynamoRevocationLedger;
  readerAlerts: ReaderAlertLog;
  readHistory: ReadHistory;
  tasks: ManualTasks;
  callbacks: TaskCallbacks;
  requests: OperatorRequests;
  usage: UsageStore;
  misuseAcks: MisuseAckStore;
  /** Who proves a manually deleted key gone (`keys confirm-deleted`); unset: proved in-process. */
  prover?: DeletionProver | undefined;
  exchangeSide: ExchangeActivityStore;
}

/**
 * The composition root of everything (the CLI, the local stack, the hygiene audit): every port,
 * built once per container. A step handler composes only the ports its use case takes
 * (`compose` in ./wiring.ts), so its bundle holds no other adapter.
 */
export function buildDeps(config: Config): AppDeps {
  return compose(config, {
    secrets,
    store,
    lock,
    consumers,
    policies,
    keyshiftReaders,
    keyshiftWriters,
    readerAlerts,
    readHistory,
    requests,
    usage,
    misuseAcks,
    exchangeSide,
    ledger,
    audit,
    alerts,
    exchange,
    clock,
    revocation,
    egressIps,
    tasks,
    callbacks,
  });
}
