import { SNSClient } from "@aws-sdk/client-sns";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { DynamoAuditLog } from "../adapters/dynamodb/audit-log";
import { documentClient } from "../adapters/dynamodb/client";
import { DynamoConsumerRegistry } from "../adapters/dynamodb/consumer-registry";
import { readSecretState } from "../adapters/dynamodb/secret-state";
import { DynamoUsageStore } from "../adapters/dynamodb/usage-store";
import { CachedRegistrations, CachedSecretState } from "../adapters/heartbeat-cache";
import { SnsAlerts } from "../adapters/sns-alerts";
import type { HeartbeatDeps } from "../core/consumers/heartbeat";
import { RejectionLimiter } from "../core/consumers/rejection-limiter";
import { type Clock, systemClock } from "../core/ports";
import type { HeartbeatConfig } from "./config";
import { firstUse } from "./lazy-ports";
import { logger } from "./logger";

/**
 * The heartbeat's own composition root: one DynamoDB document client, the caches in front of its
 * two reads (src/adapters/heartbeat-cache.ts), the rejection limiter, and an SNS client built only
 * when an unknown fingerprint is first alerted. Nothing else — no Secrets Manager, no exchange, no
 * workflow half of the rotation store — so a cold start loads and builds what a heartbeat uses.
 */
export function buildHeartbeatDeps(
  config: HeartbeatConfig,
  opts: { clock?: Clock; db?: DynamoDBDocumentClient } = {},
): HeartbeatDeps {
  const clock = opts.clock ?? systemClock;
  const db =
    opts.db ?? documentClient({ region: config.AWS_REGION, endpoint: config.KEYSHIFT_ENDPOINT_DYNAMODB });
  const consumers = new DynamoConsumerRegistry(db, config.KEYSHIFT_TABLE_CONSUMERS);
  const registrations = new CachedRegistrations(consumers, clock);
  return {
    consumers: {
      listByPrincipal: (principal, opts) => registrations.listByPrincipal(principal, opts),
      touchInstance: (touch) => consumers.touchInstance(touch),
      getInstance: (secretId, consumerId, instanceId) =>
        consumers.getInstance(secretId, consumerId, instanceId),
      putInstance: (instance) => consumers.putInstance(instance),
    },
    // The one read of the rotations table it makes (DynamoRotationStore.getSecretState is this read;
    // the rest of that class is the workflow's and stays out of this bundle).
    store: new CachedSecretState(
      {
        getSecretState: (secretId, opts) =>
          readSecretState(db, config.KEYSHIFT_TABLE_ROTATIONS, secretId, opts),
      },
      clock,
    ),
    audit: new DynamoAuditLog(db, config.KEYSHIFT_TABLE_AUDIT, clock),
    // Alerts are rare on this path (a new unknown fingerprint): the SNS client is built on the first.
    alerts: firstUse(
      () =>
        new SnsAlerts(
          new SNSClient({ region: config.AWS_REGION, endpoint: config.KEYSHIFT_ENDPOINT_SNS }),
          config.KEYSHIFT_ALERT_TOPIC_ARN,
          logger,
        ),
    ),
    clock,
    rejections: new RejectionLimiter(),
    // Written only when a heartbeat carries usage (issue 20): the steady state stays one UpdateItem.
    usage: new DynamoUsageStore(db, config.KEYSHIFT_TABLE_CONSUMERS),
  };
}
