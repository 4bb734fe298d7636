import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SFNClient } from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoAuditLog } from "../adapters/dynamodb/audit-log";
import { documentClient } from "../adapters/dynamodb/client";
import { DynamoConsumerRegistry } from "../adapters/dynamodb/consumer-registry";
import { DynamoExchangeActivityStore } from "../adapters/dynamodb/exchange-activity-store";
import { DynamoManualTasks } from "../adapters/dynamodb/manual-tasks";
import { DynamoOperatorRequests } from "../adapters/dynamodb/operator-requests";
import { DynamoReadHistory } from "../adapters/dynamodb/read-history";
import { DynamoReaderAlertLog } from "../adapters/dynamodb/reader-alert-log";
import { DynamoRevocationLedger } from "../adapters/dynamodb/revocation-ledger";
import { DynamoRotationStore } from "../adapters/dynamodb/rotation-store";
import { DynamoMisuseAcks, DynamoUsageStore } from "../adapters/dynamodb/usage-store";
import { S3AuditArchive } from "../adapters/s3-audit-archive";
import { SecretsManagerStore } from "../adapters/secrets-manager";
import { SnsAlerts } from "../adapters/sns-alerts";
import { StepFunctionsTaskCallbacks } from "../adapters/task-callbacks";
import { ConfigurationError } from "../core/errors";
import { systemClock } from "../core/ports";
import type { Config } from "./config";
import { logger } from "./logger";

/**
 * How each port is built on AWS, one factory per port. A composition root names the ports its use
 * case takes (`compose(config, { store, lock, audit, alerts, clock })`) and gets those and nothing
 * else: what a handler does not name is neither built at cold start nor bundled (each factory is
 * its own export, so esbuild drops the adapters and SDK clients of the ones not imported). Why it
 * matters: Lambda's init phase pays for every byte of the bundle it has to compile. The exchange
 * is in ./wiring-exchange.ts: its adapters build their wire schemas when loaded, which esbuild
 * cannot drop from a module that is imported at all.
 */
export interface Wiring {
  config: Config;
  /** One instance per composition: `store` and `lock` are the same DynamoRotationStore. */
  shared<T>(make: (w: Wiring) => T): T;
}

export type Part<T> = (w: Wiring) => T;

/** Builds each named part once, over one set of shared clients. */
export function compose<P extends Record<string, Part<unknown>>>(
  config: Config,
  parts: P,
): { [K in keyof P]: ReturnType<P[K]> } {
  const made = new Map<Part<unknown>, unknown>();
  const wiring: Wiring = {
    config,
    shared<T>(make: Part<T>): T {
      if (!made.has(make)) made.set(make, make(wiring));
      return made.get(make) as T;
    },
  };
  return Object.fromEntries(Object.entries(parts).map(([name, part]) => [name, part(wiring)])) as {
    [K in keyof P]: ReturnType<P[K]>;
  };
}

/** The one DynamoDB document client of a container: every table adapter shares it. */
export const dynamo: Part<DynamoDBDocumentClient> = ({ config }) =>
  documentClient({ region: config.AWS_REGION, endpoint: config.KEYSHIFT_ENDPOINT_DYNAMODB });

const rotations: Part<DynamoRotationStore> = (w) =>
  new DynamoRotationStore(w.shared(dynamo), w.config.KEYSHIFT_TABLE_ROTATIONS);

/** The one Secrets Manager adapter: secrets, read policies and the exchange's admin credentials. */
export const secretsManager: Part<SecretsManagerStore> = ({ config }) =>
  new SecretsManagerStore(
    new SecretsManagerClient({
      region: config.AWS_REGION,
      endpoint: config.KEYSHIFT_ENDPOINT_SECRETS_MANAGER,
    }),
  );

export const clock: Part<typeof systemClock> = () => systemClock;
/** The operator plane's requests and reviews: a partition of the rotations table. */
export const requests: Part<DynamoOperatorRequests> = (w) =>
  new DynamoOperatorRequests(w.shared(dynamo), w.config.KEYSHIFT_TABLE_ROTATIONS);
export const store: Part<DynamoRotationStore> = (w) => w.shared(rotations);
export const lock: Part<DynamoRotationStore> = (w) => w.shared(rotations);
export const secrets: Part<SecretsManagerStore> = (w) => w.shared(secretsManager);
export const policies: Part<SecretsManagerStore> = (w) => w.shared(secretsManager);

export const consumers: Part<DynamoConsumerRegistry> = (w) =>
  new DynamoConsumerRegistry(w.shared(dynamo), w.config.KEYSHIFT_TABLE_CONSUMERS);

export const ledger: Part<DynamoRevocationLedger> = (w) =>
  new DynamoRevocationLedger(w.shared(dynamo), w.config.KEYSHIFT_TABLE_LEDGER);

export const audit: Part<DynamoAuditLog> = (w) =>
  new DynamoAuditLog(w.shared(dynamo), w.config.KEYSHIFT_TABLE_AUDIT, w.shared(clock));

export const alerts: Part<SnsAlerts> = ({ config }) =>
  new SnsAlerts(
    new SNSClient({ region: config.AWS_REGION, endpoint: config.KEYSHIFT_ENDPOINT_SNS }),
    config.KEYSHIFT_ALERT_TOPIC_ARN,
    logger,
  );

/** The write-once audit archive; fails naming the variable when the stack's bucket is not configured. */
export const auditArchive: Part<S3AuditArchive> = ({ config }) => {
  const bucket = config.KEYSHIFT_AUDIT_ARCHIVE_BUCKET;
  if (!bucket) {
    throw new ConfigurationError(
      "KEYSHIFT_AUDIT_ARCHIVE_BUCKET is not set: the audit archive's bucket (stack output KeyshiftAuditArchiveBucket)",
    );
  }
  const endpoint = config.KEYSHIFT_ENDPOINT_S3;
  // A local endpoint serves buckets by path (http://host/bucket/key), not by virtual host.
  return new S3AuditArchive(
    new S3Client({ region: config.AWS_REGION, endpoint, forcePathStyle: endpoint !== undefined }),
    bucket,
  );
};

/** Empty when unset: writing a read policy then fails naming KEYSHIFT_READER_ROLE_ARNS. */
export const keyshiftReaders: Part<readonly string[]> = ({ config }) =>
  config.KEYSHIFT_READER_ROLE_ARNS ?? [];

/** Empty when unset: the guard then lets through keyshift's readers only. */
export const keyshiftWriters: Part<readonly string[]> = ({ config }) =>
  config.KEYSHIFT_POLICY_WRITER_ROLE_ARNS ?? [];

export const readerAlerts: Part<DynamoReaderAlertLog> = (w) =>
  new DynamoReaderAlertLog(w.shared(dynamo), w.config.KEYSHIFT_TABLE_CONSUMERS);

export const readHistory: Part<DynamoReadHistory> = (w) =>
  new DynamoReadHistory(w.shared(dynamo), w.config.KEYSHIFT_TABLE_CONSUMERS);

/** What consumers reported per secret × key × hour (issue 20), in the consumers table. */
export const usage: Part<DynamoUsageStore> = (w) =>
  new DynamoUsageStore(w.shared(dynamo), w.config.KEYSHIFT_TABLE_CONSUMERS);

/** What the exchanges saw per account × hour (the hourly pull's sums and cursors), beside the usage. */
export const exchangeSide: Part<DynamoExchangeActivityStore> = (w) =>
  new DynamoExchangeActivityStore(w.shared(dynamo), w.config.KEYSHIFT_TABLE_CONSUMERS);

/** Operators' acknowledgements of misuse findings, beside the usage they judge. */
export const misuseAcks: Part<DynamoMisuseAcks> = (w) =>
  new DynamoMisuseAcks(w.shared(dynamo), w.config.KEYSHIFT_TABLE_CONSUMERS);

/** keyshift's fixed egress IPs (`--param egress=...`); absent without one. */
export const egressIps: Part<readonly string[] | undefined> = ({ config }) => config.KEYSHIFT_EGRESS_IPS;

export const revocation = ({ config }: Wiring) => ({
  baseSeconds: config.KEYSHIFT_REVOCATION_BASE_SECONDS,
  capSeconds: config.KEYSHIFT_REVOCATION_CAP_SECONDS,
  maxAttempts: config.KEYSHIFT_REVOCATION_MAX_ATTEMPTS,
  random: Math.random,
});

/** Manual tasks (issue 17) live in the rotations table's `#manual-tasks` partition. */
export const tasks: Part<DynamoManualTasks> = (w) =>
  new DynamoManualTasks(w.shared(dynamo), w.config.KEYSHIFT_TABLE_ROTATIONS);

/** The answer to an execution waiting on a task token (Step Functions SendTaskSuccess). */
export const callbacks: Part<StepFunctionsTaskCallbacks> = ({ config }) =>
  new StepFunctionsTaskCallbacks(
    new SFNClient({ region: config.AWS_REGION, endpoint: config.KEYSHIFT_ENDPOINT_STEPFUNCTIONS }),
  );
