/**
 * Where the DynamoDB contract suites run. By default: dynalite on a free loopback port, with
 * keyshift's tables from infra/tables.yml. With KEYSHIFT_CONTRACT_DYNAMODB_ENDPOINT set: that
 * endpoint (real AWS or another implementation), with region from AWS_REGION (default us-east-1)
 * and credentials from the SDK's default provider chain; the tables get run-unique names, are
 * created from the same definitions and deleted by `close()`, so a run leaves nothing behind.
 */
import { randomBytes } from "node:crypto";
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  waitUntilTableExists,
} from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type LocalDynamo, startDynamo, tableInputs } from "../../harness/local/dynamodb";
import { documentClient, type TableNames } from "../../src/adapters/dynamodb/client";
import { retryUntil } from "./retry-until";

export const DYNAMODB_ENDPOINT_ENV = "KEYSHIFT_CONTRACT_DYNAMODB_ENDPOINT";

export interface DynamoTarget {
  /** True when the suite runs against an external endpoint instead of dynalite. */
  readonly external: boolean;
  /** Run-unique prefix of every table and partition key a suite writes. */
  readonly runId: string;
  readonly tables: TableNames;
  /** Creates (external) or starts (dynalite) the tables; returns the clients to use on them. */
  open(): Promise<{ raw: DynamoDBClient; db: DynamoDBDocumentClient; config: DynamoDBClientConfig }>;
  /** Deletes the tables (external) or stops dynalite. */
  close(): Promise<void>;
  /** A unique key per test, so cases never see each other's items. */
  partition(label: string): string;
  /**
   * GSIs are eventually consistent on AWS (and reject ConsistentRead), so index reads are retried
   * there. dynalite gets one attempt: a local failure is never hidden by waiting.
   */
  eventually<T>(check: () => Promise<T>, timeoutMs?: number): Promise<T>;
}

/** Names are fixed at import time so tests can use them; nothing is created before `open()`. */
export function dynamoTarget(): DynamoTarget {
  const endpointEnv = process.env[DYNAMODB_ENDPOINT_ENV];
  const external = Boolean(endpointEnv);
  const runId = `ks-contract-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const tables: TableNames = {
    consumers: `${runId}-consumers`,
    rotations: `${runId}-rotations`,
    ledger: `${runId}-ledger`,
    audit: `${runId}-audit`,
  };
  let local: LocalDynamo | undefined;
  let raw: DynamoDBClient | undefined;

  return {
    external,
    runId,
    tables,
    async open() {
      let endpoint = endpointEnv;
      if (!endpoint) {
        local = await startDynamo({ names: tables });
        endpoint = local.endpoint;
      }
      const config: DynamoDBClientConfig = {
        endpoint,
        region: external ? (process.env.AWS_REGION ?? "us-east-1") : "us-east-1",
        ...(external ? {} : { credentials: { accessKeyId: "local", secretAccessKey: "local" } }),
      };
      raw = new DynamoDBClient(config);
      if (external) {
        for (const input of tableInputs(tables)) await raw.send(new CreateTableCommand(input));
        for (const TableName of Object.values(tables)) {
          await waitUntilTableExists({ client: raw, maxWaitTime: 300 }, { TableName });
        }
      }
      // The production document client (src/commons/deps.ts builds it the same way).
      return { raw, db: documentClient(config), config };
    },
    async close() {
      if (external && raw) {
        for (const TableName of Object.values(tables)) {
          await raw.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
        }
      }
      raw?.destroy();
      await local?.close();
    },
    partition: (label) => `${runId}/${label}/${randomBytes(3).toString("hex")}`,
    eventually: (check, timeoutMs = 60_000) => (external ? retryUntil(check, timeoutMs, 1_000) : check()),
  };
}
