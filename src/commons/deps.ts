import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SNSClient } from "@aws-sdk/client-sns";
import { DynamoAuditLog } from "../adapters/dynamodb/audit-log";
import { documentClient } from "../adapters/dynamodb/client";
import { DynamoConsumerRegistry } from "../adapters/dynamodb/consumer-registry";
import { DynamoReaderAlertLog } from "../adapters/dynamodb/reader-alert-log";
import { DynamoRevocationLedger } from "../adapters/dynamodb/revocation-ledger";
import { DynamoRotationStore } from "../adapters/dynamodb/rotation-store";
import { EXCHANGE_PROTOCOLS } from "../adapters/exchange/protocols";
import { ExchangeRouter } from "../adapters/exchange/router";
import { SecretsManagerStore } from "../adapters/secrets-manager";
import { SnsAlerts } from "../adapters/sns-alerts";
import type { Deps } from "../core/deps";
import { type ReaderAlertLog, systemClock } from "../core/ports";
import type { ReadPolicyDeps } from "../core/read-policy/sync";
import type { Config } from "./config";
import { logger } from "./logger";

export interface AppDeps extends Deps, ReadPolicyDeps {
  ledger: DynamoRevocationLedger;
  readerAlerts: ReaderAlertLog;
}

/** The composition root: SDK clients and adapters wired to the ports, built once per container. */
export function buildDeps(config: Config): AppDeps {
  const region = config.AWS_REGION;
  const db = documentClient({ region, endpoint: config.KEYSHIFT_ENDPOINT_DYNAMODB });
  const sm = new SecretsManagerClient({ region, endpoint: config.KEYSHIFT_ENDPOINT_SECRETS_MANAGER });
  const sns = new SNSClient({ region, endpoint: config.KEYSHIFT_ENDPOINT_SNS });
  const clock = systemClock;
  const rotations = new DynamoRotationStore(db, config.KEYSHIFT_TABLE_ROTATIONS);
  const secrets = new SecretsManagerStore(sm);
  return {
    secrets,
    store: rotations,
    lock: rotations,
    consumers: new DynamoConsumerRegistry(db, config.KEYSHIFT_TABLE_CONSUMERS),
    policies: secrets,
    // Empty when unset: writing a read policy then fails naming KEYSHIFT_READER_ROLE_ARNS.
    keyshiftReaders: config.KEYSHIFT_READER_ROLE_ARNS ?? [],
    readerAlerts: new DynamoReaderAlertLog(db, config.KEYSHIFT_TABLE_CONSUMERS),
    ledger: new DynamoRevocationLedger(db, config.KEYSHIFT_TABLE_LEDGER),
    audit: new DynamoAuditLog(db, config.KEYSHIFT_TABLE_AUDIT, clock),
    alerts: new SnsAlerts(sns, config.KEYSHIFT_ALERT_TOPIC_ARN, logger),
    exchange: new ExchangeRouter(secrets, config.KEYSHIFT_ADMIN_SECRET_PREFIX, EXCHANGE_PROTOCOLS, {
      timeoutMs: config.KEYSHIFT_EXCHANGE_TIMEOUT_MS,
    }),
    clock,
    revocation: {
      baseSeconds: config.KEYSHIFT_REVOCATION_BASE_SECONDS,
      capSeconds: config.KEYSHIFT_REVOCATION_CAP_SECONDS,
      maxAttempts: config.KEYSHIFT_REVOCATION_MAX_ATTEMPTS,
      random: Math.random,
    },
  };
}
