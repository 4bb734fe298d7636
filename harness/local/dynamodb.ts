import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { parse } from "yaml";
import type { TableNames } from "../../src/adapters/dynamodb/client";
import { loadDynalite } from "./dynalite-loader";

export const TABLES_FILE = join(import.meta.dirname, "..", "..", "infra", "tables.yml");

const LOGICAL_IDS: Record<keyof TableNames, string> = {
  consumers: "ConsumersTable",
  rotations: "RotationsTable",
  ledger: "LedgerTable",
  audit: "AuditTable",
};

/**
 * CreateTable inputs from the one table definition (infra/tables.yml, also used by serverless.yml).
 * CloudFormation-only properties (PITR, SSE, TTL, deletion protection) are dropped here: dynalite
 * has no UpdateTimeToLive, and nothing in keyshift relies on TTL deletion for correctness.
 */
export function tableInputs(names: TableNames): CreateTableCommandInput[] {
  const resources = parse(readFileSync(TABLES_FILE, "utf8")) as Record<
    string,
    { Properties: Record<string, unknown> }
  >;
  return (Object.keys(LOGICAL_IDS) as (keyof TableNames)[]).map((key) => {
    const props = resources[LOGICAL_IDS[key]]?.Properties;
    if (!props) throw new Error(`infra/tables.yml has no ${LOGICAL_IDS[key]}`);
    return {
      TableName: names[key],
      BillingMode: props.BillingMode,
      AttributeDefinitions: props.AttributeDefinitions,
      KeySchema: props.KeySchema,
      GlobalSecondaryIndexes: props.GlobalSecondaryIndexes,
    } as CreateTableCommandInput;
  });
}

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/** dynalite on a free loopback port (in memory, or on disk at `path`), with keyshift's tables. */
export async function startDynamo(opts: {
  names: TableNames;
  path?: string;
  port?: number;
}): Promise<LocalDynamo> {
  const server = loadDynalite()({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: opts.path });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  for (const input of tableInputs(opts.names)) {
    try {
      await client.send(new CreateTableCommand(input));
    } catch (err) {
      // On-disk state from an earlier `npm run local` already has the tables.
      if ((err as Error).name !== "ResourceInUseException") throw err;
    }
  }
  client.destroy();
  return {
    endpoint,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
