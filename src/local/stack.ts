import type { TableNames } from "../adapters/dynamodb/client";
import { type ExchangeSimulator, startExchangeSimulator } from "../local/exchange/server";
import { startSecretsManagerEmulator } from "../local/secrets-manager/server";
import { LOCAL_ACCOUNT, LOCAL_REGION } from "./definition";
import { startDynamo } from "./dynamodb";
import { startLocalFunctionUrl } from "./http-api";
import { LocalIam } from "./local-iam";
import { type LocalSns, startLocalSns } from "./sns";
import { LOCAL_STATE_MACHINE_ARN, startLocalStepFunctionsApi } from "./stepfunctions-api";

export const LOCAL_TABLES: TableNames = {
  consumers: "keyshift-local-consumers",
  rotations: "keyshift-local-rotations",
  ledger: "keyshift-local-ledger",
  audit: "keyshift-local-audit",
};

export const LOCAL_TOPIC_ARN = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:keyshift-local-alerts`;
export const ADMIN_SECRET_PREFIX = "keyshift/admin/";

export interface LocalStackOptions {
  seed?: number;
  maxActiveKeys?: number;
  /** On-disk dynalite store (default: in memory). */
  dynamoPath?: string;
  /** Secrets Manager emulator state file (default: in memory). */
  secretsStateFile?: string;
  /** Revocation policy for the steps and the sweeper (defaults suit compressed local runs). */
  revocation?: { maxAttempts: number; baseSeconds: number; capSeconds: number };
  exchangeTimeoutMs?: number;
}

export interface LocalStack {
  region: string;
  endpoints: {
    dynamodb: string;
    secretsManager: string;
    sns: string;
    exchange: string;
    heartbeatApi: string;
    stepFunctions: string;
  };
  /** The environment the handlers read at cold start (also applied to this process). */
  env: Record<string, string>;
  tables: TableNames;
  exchange: ExchangeSimulator;
  sns: LocalSns;
  iam: LocalIam;
  close(): Promise<void>;
}

/**
 * Starts the whole local AWS on free loopback ports, in one call: DynamoDB (dynalite), the
 * Secrets Manager emulator, an SNS alert sink, the simulated exchange, and the heartbeat function
 * URL with IAM (SigV4) authorization in front of the real `heartbeat` handler.
 *
 * The handlers read their configuration from `process.env` at cold start, exactly as on Lambda,
 * so this sets it before they are first imported. One stack per process.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const closers: Array<() => Promise<void>> = [];
  try {
    const dynamo = await startDynamo({ names: LOCAL_TABLES, path: opts.dynamoPath });
    closers.push(dynamo.close);
    const sm = await startSecretsManagerEmulator({
      stateFile: opts.secretsStateFile,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT,
    });
    closers.push(sm.close);
    const sns = await startLocalSns();
    closers.push(sns.close);
    const exchange = await startExchangeSimulator({
      seed: opts.seed ?? 1,
      maxActiveKeys: opts.maxActiveKeys ?? 2,
    });
    closers.push(exchange.close);

    const revocation = opts.revocation ?? { maxAttempts: 5, baseSeconds: 1, capSeconds: 4 };
    const env: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      KEYSHIFT_TABLE_CONSUMERS: LOCAL_TABLES.consumers,
      KEYSHIFT_TABLE_ROTATIONS: LOCAL_TABLES.rotations,
      KEYSHIFT_TABLE_LEDGER: LOCAL_TABLES.ledger,
      KEYSHIFT_TABLE_AUDIT: LOCAL_TABLES.audit,
      KEYSHIFT_ALERT_TOPIC_ARN: LOCAL_TOPIC_ARN,
      KEYSHIFT_ADMIN_SECRET_PREFIX: ADMIN_SECRET_PREFIX,
      KEYSHIFT_REVOCATION_MAX_ATTEMPTS: String(revocation.maxAttempts),
      KEYSHIFT_REVOCATION_BASE_SECONDS: String(revocation.baseSeconds),
      KEYSHIFT_REVOCATION_CAP_SECONDS: String(revocation.capSeconds),
      KEYSHIFT_EXCHANGE_TIMEOUT_MS: String(opts.exchangeTimeoutMs ?? 2000),
      KEYSHIFT_ENDPOINT_DYNAMODB: dynamo.endpoint,
      KEYSHIFT_ENDPOINT_SECRETS_MANAGER: sm.endpoint,
      KEYSHIFT_ENDPOINT_SNS: sns.endpoint,
      // Lambda logs go to stdout as JSON; keep local runs readable unless asked for more.
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? "WARN",
    };
    Object.assign(process.env, env);

    const iam = new LocalIam();
    const { handler: heartbeat } = await import("../../functions/heartbeat");
    // The heartbeat's function URL: consumers POST <heartbeatApi>/heartbeats, signed for `lambda`.
    const api = await startLocalFunctionUrl({
      iam,
      region: LOCAL_REGION,
      functionName: "heartbeat",
      handler: (event, context) => heartbeat(event, context),
    });
    closers.push(api.close);
    // The Step Functions API the CLI's rotate/resume talk to; executions run in this process.
    const sfn = await startLocalStepFunctionsApi({ waitMs: 300, retryMs: 50 });
    closers.push(sfn.close);
    env.KEYSHIFT_ENDPOINT_STEPFUNCTIONS = sfn.endpoint;
    env.KEYSHIFT_STATE_MACHINE_ARN = LOCAL_STATE_MACHINE_ARN;
    process.env.KEYSHIFT_ENDPOINT_STEPFUNCTIONS = sfn.endpoint;
    process.env.KEYSHIFT_STATE_MACHINE_ARN = LOCAL_STATE_MACHINE_ARN;

    return {
      region: LOCAL_REGION,
      endpoints: {
        dynamodb: dynamo.endpoint,
        secretsManager: sm.endpoint,
        sns: sns.endpoint,
        exchange: exchange.url,
        heartbeatApi: api.url,
        stepFunctions: sfn.endpoint,
      },
      env,
      tables: LOCAL_TABLES,
      exchange,
      sns,
      iam,
      close: () => closeAll(closers),
    };
  } catch (err) {
    await closeAll(closers);
    throw err;
  }
}

async function closeAll(closers: Array<() => Promise<void>>): Promise<void> {
  for (const close of closers.reverse()) await close().catch(() => undefined);
}
