/**
 * The ports kept in DynamoDB, one contract suite each (test/contract/ports/*.suite.ts), run against
 * the in-memory adapters the simulation decides on (harness/memory/) and the production adapters
 * (src/adapters/dynamodb/) built as src/commons/deps.ts builds them, over the production document
 * client on dynalite — or on KEYSHIFT_CONTRACT_DYNAMODB_ENDPOINT (real AWS, see dynamodb-target.ts).
 * Both pass the same cases, so the simulation's world behaves like production by construction.
 */
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll } from "vitest";
import {
  InMemoryAuditLog,
  InMemoryConsumerRegistry,
  InMemoryExchangeActivityStore,
  InMemoryManualTasks,
  InMemoryMisuseAcks,
  InMemoryOperatorRequests,
  InMemoryReaderAlertLog,
  InMemoryReadHistory,
  InMemoryRequestBudget,
  InMemoryRevocationLedger,
  InMemoryRotationStore,
  InMemoryUsageStore,
} from "../../harness/memory";
import { DynamoAuditLog } from "../../src/adapters/dynamodb/audit-log";
import { DynamoConsumerRegistry } from "../../src/adapters/dynamodb/consumer-registry";
import { DynamoExchangeActivityStore } from "../../src/adapters/dynamodb/exchange-activity-store";
import { DynamoManualTasks } from "../../src/adapters/dynamodb/manual-tasks";
import { DynamoOperatorRequests } from "../../src/adapters/dynamodb/operator-requests";
import { DynamoReadHistory } from "../../src/adapters/dynamodb/read-history";
import { DynamoReaderAlertLog } from "../../src/adapters/dynamodb/reader-alert-log";
import { DynamoRequestBudget } from "../../src/adapters/dynamodb/request-budget";
import { DynamoRevocationLedger } from "../../src/adapters/dynamodb/revocation-ledger";
import { DynamoRotationStore } from "../../src/adapters/dynamodb/rotation-store";
import { DynamoMisuseAcks, DynamoUsageStore } from "../../src/adapters/dynamodb/usage-store";
import { nextAuditEntry, streamOf } from "../../src/core/audit/chain";
import type { Clock } from "../../src/core/ports";
import { dynamoTarget } from "./dynamodb-target";
import { auditLogContract } from "./ports/audit-log.suite";
import { consumerRegistryContract } from "./ports/consumer-registry.suite";
import { exchangeActivityStoreContract } from "./ports/exchange-activity-store.suite";
import { manualTasksContract } from "./ports/manual-tasks.suite";
import { operatorRequestsContract } from "./ports/operator-requests.suite";
import { readHistoryContract } from "./ports/read-history.suite";
import { readerAlertLogContract } from "./ports/reader-alert-log.suite";
import { requestBudgetContract } from "./ports/request-budget.suite";
import { revocationLedgerContract } from "./ports/revocation-ledger.suite";
import {
  revocationLedgerManualContract,
  revocationLedgerTwoStageContract,
} from "./ports/revocation-ledger-two-stage.suite";
import { rotationLockContract } from "./ports/rotation-lock.suite";
import { rotationStoreContract } from "./ports/rotation-store.suite";
import { counterIds, once, type PortTarget } from "./ports/support";
import { misuseAckStoreContract, usageStoreContract } from "./ports/usage-store.suite";

const target = dynamoTarget();
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  ({ db } = await target.open());
}, 360_000);

afterAll(() => target.close(), 120_000);

/** A production adapter on the target's tables; built lazily, once `db` is open. */
function dynamo<T>(make: () => T): PortTarget<T> {
  return { name: "dynamodb", make, id: target.partition, eventually: (check) => target.eventually(check) };
}

/** A fresh in-memory adapter per test; `current()` is the one the running test uses. */
function memory<T>(make: () => T): PortTarget<T> & { current(): T } {
  let current: T | undefined;
  return {
    name: "in-memory",
    make: () => {
      current = make();
      return current;
    },
    current: () => current as T,
    id: counterIds("mem"),
    eventually: once,
  };
}

const rotationsInMemory = memory(() => new InMemoryRotationStore());
const rotationsInDynamo = dynamo(() => new DynamoRotationStore(db, target.tables.rotations));

rotationLockContract({
  ...rotationsInMemory,
  writeLegacyLock: async (lock) => rotationsInMemory.current().seedLock(lock),
});
rotationLockContract({
  ...rotationsInDynamo,
  writeLegacyLock: async (lock) => {
    await db.send(new PutCommand({ TableName: target.tables.rotations, Item: { ...lock, sk: "LOCK" } }));
  },
});
rotationStoreContract(rotationsInMemory);
rotationStoreContract(rotationsInDynamo);

const budgetInMemory = memory(() => new InMemoryRequestBudget());
requestBudgetContract({
  ...budgetInMemory,
  anotherCaller: () => new InMemoryRequestBudget(budgetInMemory.current().table),
});
requestBudgetContract({
  ...dynamo(() => new DynamoRequestBudget(db, target.tables.rotations)),
  anotherCaller: () => new DynamoRequestBudget(db, target.tables.rotations),
});

const ledgerInMemory = memory(() => new InMemoryRevocationLedger());
const ledgerInDynamo = dynamo(() => new DynamoRevocationLedger(db, target.tables.ledger));
revocationLedgerContract(ledgerInMemory);
revocationLedgerContract(ledgerInDynamo);
revocationLedgerTwoStageContract(ledgerInMemory);
revocationLedgerTwoStageContract(ledgerInDynamo);
revocationLedgerManualContract(ledgerInMemory);
revocationLedgerManualContract(ledgerInDynamo);

manualTasksContract(memory(() => new InMemoryManualTasks()));
manualTasksContract(dynamo(() => new DynamoManualTasks(db, target.tables.rotations)));

consumerRegistryContract(memory(() => new InMemoryConsumerRegistry()));
consumerRegistryContract(dynamo(() => new DynamoConsumerRegistry(db, target.tables.consumers)));

readerAlertLogContract(memory(() => new InMemoryReaderAlertLog()));
readerAlertLogContract(dynamo(() => new DynamoReaderAlertLog(db, target.tables.consumers)));

operatorRequestsContract(memory(() => new InMemoryOperatorRequests()));
operatorRequestsContract(dynamo(() => new DynamoOperatorRequests(db, target.tables.rotations)));

readHistoryContract(memory(() => new InMemoryReadHistory()));
readHistoryContract(dynamo(() => new DynamoReadHistory(db, target.tables.consumers)));
usageStoreContract(memory(() => new InMemoryUsageStore()));
usageStoreContract(dynamo(() => new DynamoUsageStore(db, target.tables.consumers)));
exchangeActivityStoreContract(memory(() => new InMemoryExchangeActivityStore()));
exchangeActivityStoreContract(dynamo(() => new DynamoExchangeActivityStore(db, target.tables.consumers)));
misuseAckStoreContract(memory(() => new InMemoryMisuseAcks()));
misuseAckStoreContract(dynamo(() => new DynamoMisuseAcks(db, target.tables.consumers)));

let auditInMemory: InMemoryAuditLog | undefined;
auditLogContract({
  ...memory(() => undefined),
  make: (clock) => {
    auditInMemory = new InMemoryAuditLog(clock);
    return auditInMemory;
  },
  async crashAfterHead(event) {
    auditInMemory?.faults.failNext("putEntry", 1, Error, "crashed after the head");
    await auditInMemory?.append(event).catch(() => undefined);
  },
  removeEntries: async (stream, ...seqs) => auditInMemory?.remove(stream, ...seqs),
  removeHead: async (stream) => auditInMemory?.removeHead(stream),
});

let auditClock: Clock | undefined;
const auditItem = (stream: string, seq: number) => ({ TableName: target.tables.audit, Key: { stream, seq } });
auditLogContract({
  ...dynamo(() => undefined),
  make: (clock) => {
    auditClock = clock;
    return new DynamoAuditLog(db, target.tables.audit, clock);
  },
  // The adapter's first write alone: the head advanced over the one read, committed false.
  async crashAfterHead(event) {
    const clock = auditClock as Clock;
    const head = await new DynamoAuditLog(db, target.tables.audit, clock).head(streamOf(event));
    const entry = nextAuditEntry(head?.entry, event, clock.now());
    const item = {
      stream: streamOf(event),
      seq: 0,
      headSeq: entry.seq,
      headHash: entry.hash,
      committed: false,
      entry,
    };
    await db.send(new PutCommand({ TableName: target.tables.audit, Item: item }));
  },
  async removeEntries(stream, ...seqs) {
    for (const seq of seqs) await db.send(new DeleteCommand(auditItem(stream, seq)));
  },
  async removeHead(stream) {
    await db.send(new DeleteCommand(auditItem(stream, 0)));
  },
});
