import type { DynamoRevocationLedger } from "../adapters/dynamodb/revocation-ledger";
import type { Deps } from "../core/deps";
import type { MisuseAckStore, ReaderAlertLog, ReadHistory, UsageStore } from "../core/ports";
import type { ReadPolicyDeps } from "../core/read-policy/sync";
import type { Config } from "./config";
import {
  alerts,
  audit,
  clock,
  compose,
  consumers,
  egressIps,
  keyshiftReaders,
  ledger,
  lock,
  misuseAcks,
  policies,
  readerAlerts,
  readHistory,
  revocation,
  secrets,
  store,
  usage,
} from "./wiring";
import { exchange } from "./wiring-exchange";

export interface AppDeps extends Deps, ReadPolicyDeps {
  ledger: DynamoRevocationLedger;
  readerAlerts: ReaderAlertLog;
  readHistory: ReadHistory;
  usage: UsageStore;
  misuseAcks: MisuseAckStore;
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
    readerAlerts,
    readHistory,
    usage,
    misuseAcks,
    ledger,
    audit,
    alerts,
    exchange,
    clock,
    revocation,
    egressIps,
  });
}
