import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { ConsumerInstance, ConsumerRegistration, InstanceTouch } from "../../core/model";
import type { ConsumerRegistry, PrincipalClaim } from "../../core/ports";
import { isConditionFailed, queryAll, strip } from "./client";

/** Idle instances are cleaned up by TTL after this long; liveness never depends on TTL. */
const INSTANCE_RETENTION_SECONDS = 7 * 24 * 3600;

/**
 * Consumers table: one partition per secret; registrations under `CONSUMER#<id>`, instances under
 * `INSTANCE#<consumerId>#<instanceId>`, principal claims under `PRINCIPAL#<principalArn>` (the
 * principal as `claimedPrincipal`). Only registrations carry `principalArn` (sparse index).
 */
export class DynamoConsumerRegistry implements ConsumerRegistry {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async register(consumer: ConsumerRegistration): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { ...consumer, sk: `CONSUMER#${consumer.consumerId}` } }),
    );
  }

  async listConsumers(secretId: string): Promise<ConsumerRegistration[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "secretId = :s AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":s": secretId, ":p": "CONSUMER#" },
    });
    return items.map((i) => strip<ConsumerRegistration>(i, "sk"));
  }

  async findByPrincipal(principalArn: string, secretId: string): Promise<ConsumerRegistration[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      IndexName: "by-principal",
      KeyConditionExpression: "principalArn = :p AND secretId = :s",
      ExpressionAttributeValues: { ":p": principalArn, ":s": secretId },
    });
    return items
      .map((i) => strip<ConsumerRegistration>(i, "sk"))
      .sort((a, b) => a.consumerId.localeCompare(b.consumerId));
  }

  async listByPrincipal(principalArn: string): Promise<ConsumerRegistration[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      IndexName: "by-principal",
      KeyConditionExpression: "principalArn = :p",
      ExpressionAttributeValues: { ":p": principalArn },
    });
    return items.map((i) => strip<ConsumerRegistration>(i, "sk"));
  }

  async listInstances(secretId: string): Promise<ConsumerInstance[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "secretId = :s AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":s": secretId, ":p": "INSTANCE#" },
      ConsistentRead: true,
    });
    return items.map((i) => strip<ConsumerInstance>(i, "sk", "expiresAt"));
  }

  async getInstance(
    secretId: string,
    consumerId: string,
    instanceId: string,
  ): Promise<ConsumerInstance | undefined> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { secretId, sk: `INSTANCE#${consumerId}#${instanceId}` },
      }),
    );
    return out.Item ? strip<ConsumerInstance>(out.Item, "sk", "expiresAt") : undefined;
  }

  /**
   * One UpdateItem, conditional on the stored fingerprint: the steady-state heartbeat's only
   * DynamoDB call. A new instance or a changed fingerprint fails the condition (nothing written).
   */
  async touchInstance(touch: InstanceTouch): Promise<boolean> {
    const ip = touch.sourceIp !== undefined;
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { secretId: touch.secretId, sk: `INSTANCE#${touch.consumerId}#${touch.instanceId}` },
          UpdateExpression: `SET lastSeenAt = :seen, expectedBy = :by, expiresAt = :exp${ip ? ", sourceIp = :ip" : ""}`,
          ConditionExpression: "fingerprint = :fp",
          ExpressionAttributeValues: {
            ":seen": touch.lastSeenAt,
            ":by": touch.expectedBy,
            ":exp": expiry(touch.lastSeenAt),
            ":fp": touch.fingerprint,
            ...(ip ? { ":ip": touch.sourceIp } : {}),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw err;
    }
  }

  async putInstance(instance: ConsumerInstance): Promise<void> {
    const expiresAt = expiry(instance.lastSeenAt);
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...instance, sk: `INSTANCE#${instance.consumerId}#${instance.instanceId}`, expiresAt },
      }),
    );
  }

  /**
   * One conditional put makes (secret, principal) unique: a claim is written only where there is
   * none or it is already this consumer's. Refused: the holder is read back (consistently).
   */
  async claimPrincipal(secretId: string, principalArn: string, consumerId: string): Promise<string> {
    const sk = `PRINCIPAL#${principalArn}`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.db.send(
          new PutCommand({
            TableName: this.table,
            Item: { secretId, sk, claimedPrincipal: principalArn, consumerId },
            ConditionExpression: "attribute_not_exists(sk) OR consumerId = :id",
            ExpressionAttributeValues: { ":id": consumerId },
          }),
        );
        return consumerId;
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
      }
      const held = await this.db.send(
        new GetCommand({ TableName: this.table, Key: { secretId, sk }, ConsistentRead: true }),
      );
      // Gone in between (a removal released it): try again.
      if (held.Item) return String(held.Item.consumerId);
    }
    throw new Error(`principal claim ${principalArn} of ${secretId} changed hands 3 times in a row`);
  }

  async releasePrincipal(secretId: string, principalArn: string, consumerId: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { secretId, sk: `PRINCIPAL#${principalArn}` },
          ConditionExpression: "consumerId = :id",
          ExpressionAttributeValues: { ":id": consumerId },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }

  async listPrincipalClaims(secretId: string): Promise<PrincipalClaim[]> {
    const items = await queryAll<{ claimedPrincipal: string; consumerId: string }>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "secretId = :s AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":s": secretId, ":p": "PRINCIPAL#" },
      ConsistentRead: true,
    });
    return items.map((i) => ({ secretId, principalArn: i.claimedPrincipal, consumerId: i.consumerId }));
  }

  async deregister(secretId: string, consumerId: string): Promise<{ instancesRemoved: number }> {
    await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: { secretId, sk: `CONSUMER#${consumerId}` } }),
    );
    // An id registered before ids were checked may hold `#`, so another consumer's instances can
    // share the prefix: keep only rows whose consumerId is this one.
    const instances = (
      await queryAll<{ sk: string; consumerId: string }>(this.db, {
        TableName: this.table,
        KeyConditionExpression: "secretId = :s AND begins_with(sk, :p)",
        ExpressionAttributeValues: { ":s": secretId, ":p": `INSTANCE#${consumerId}#` },
        ProjectionExpression: "sk, consumerId",
        ConsistentRead: true,
      })
    ).filter((i) => i.consumerId === consumerId);
    for (const { sk } of instances) {
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: { secretId, sk } }));
    }
    // Last: a removal that dies before this leaves a claim, which its re-run finds and finishes.
    for (const claim of await this.listPrincipalClaims(secretId)) {
      if (claim.consumerId === consumerId)
        await this.releasePrincipal(secretId, claim.principalArn, consumerId);
    }
    return { instancesRemoved: instances.length };
  }
}

function expiry(lastSeenAt: string): number {
  return Math.floor(Date.parse(lastSeenAt) / 1000) + INSTANCE_RETENTION_SECONDS;
}
