import { PutCommand, ScanCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { InvalidInputError, RotationInProgressError } from "../../core/errors";
import type { RotationRecord, SecretSettings, SecretState, VersionFingerprints } from "../../core/model";
import type { RotationStore, SettingsPage } from "../../core/ports";
import { refusals } from "../../core/rotation/lock-refusals";
import { isConditionFailed, queryAll, strip } from "./client";
import { DynamoRotationLock } from "./rotation-lock";
import { readSecretState } from "./secret-state";

/**
 * Settings, version fingerprints, rotation history and the per-secret lock, one partition per
 * secret in the rotations table (sk `SETTINGS` | `VERSIONS` | `LOCK` | `ROTATION#<id>`). The lock's
 * conditions live in `DynamoRotationLock` (rotation-lock.ts), which this extends: one object is
 * both `store` and `lock`, as src/commons/deps.ts wires it.
 */
export class DynamoRotationStore extends DynamoRotationLock implements RotationStore {
  private async putItem(sk: string, item: { secretId: string }): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...item, sk } }));
  }

  getSettings(secretId: string) {
    return this.getItem<SecretSettings>(secretId, "SETTINGS");
  }
  putSettings(settings: SecretSettings) {
    return this.putItem("SETTINGS", settings);
  }
  /** Every enrolled secret's settings: `listSettingsPage` to the end. */
  async listSettings(): Promise<SecretSettings[]> {
    const all: SecretSettings[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.listSettingsPage({ limit: 1000, ...(cursor ? { cursor } : {}) });
      all.push(...page.settings);
      cursor = page.cursor;
    } while (cursor);
    return all;
  }
  async listSettingsPage(opts: { limit: number; cursor?: string }): Promise<SettingsPage> {
    const settings: SecretSettings[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined = opts.cursor
      ? settingsKeyOf(opts.cursor)
      : undefined;
    do {
      // The filter keeps SETTINGS items only, so a Scan page may hold few: read on until the page
      // is full, and continue next time from the last item returned (any key may start a Scan).
      const page = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: "sk = :s",
          ExpressionAttributeValues: { ":s": "SETTINGS" },
          ExclusiveStartKey,
        }),
      );
      for (const item of page.Items ?? []) {
        settings.push(strip<SecretSettings>(item, "sk"));
        if (settings.length >= opts.limit) {
          const last = { secretId: item.secretId, sk: "SETTINGS" };
          return { settings, cursor: Buffer.from(JSON.stringify(last)).toString("base64url") };
        }
      }
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return { settings };
  }
  getVersions(secretId: string) {
    return this.getItem<VersionFingerprints>(secretId, "VERSIONS");
  }
  putVersions(versions: VersionFingerprints) {
    return this.putItem("VERSIONS", versions);
  }
  getRotation(secretId: string, rotationId: string) {
    return this.getItem<RotationRecord>(secretId, `ROTATION#${rotationId}`);
  }
  async putRotation(rotation: RotationRecord, writer?: string): Promise<void> {
    if (writer === undefined) return this.putItem(`ROTATION#${rotation.rotationId}`, rotation);
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...rotation, fence: writer, sk: `ROTATION#${rotation.rotationId}` },
          ConditionExpression: "attribute_not_exists(#fence) OR #fence = :writer",
          ExpressionAttributeNames: { "#fence": "fence" },
          ExpressionAttributeValues: { ":writer": writer },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw new RotationInProgressError(refusals.writer(rotation.secretId, rotation.rotationId, writer), {
        cause: err,
      });
    }
  }
  /** Sets only `fence`, over the one the command read (absent → the record must have none). */
  async claimRotation(
    secretId: string,
    rotationId: string,
    operation: string,
    expectedFence: string | undefined,
  ): Promise<RotationRecord> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { secretId, sk: `ROTATION#${rotationId}` },
          UpdateExpression: "SET #fence = :op",
          ConditionExpression:
            expectedFence === undefined
              ? "attribute_exists(secretId) AND attribute_not_exists(#fence)"
              : "attribute_exists(secretId) AND #fence = :expected",
          ExpressionAttributeNames: { "#fence": "fence" },
          ExpressionAttributeValues: {
            ":op": operation,
            ...(expectedFence === undefined ? {} : { ":expected": expectedFence }),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return strip<RotationRecord>(out.Attributes ?? {}, "sk");
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw new RotationInProgressError(refusals.claim(secretId, rotationId, operation), { cause: err });
    }
  }
  /** The whole record, only while the stored fence is the writer's own. */
  async putRotationFenced(rotation: RotationRecord & { fence: string }): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...rotation, sk: `ROTATION#${rotation.rotationId}` },
          ConditionExpression: "#fence = :fence",
          ExpressionAttributeNames: { "#fence": "fence" },
          ExpressionAttributeValues: { ":fence": rotation.fence },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw new RotationInProgressError(
        refusals.fenced(rotation.secretId, rotation.rotationId, rotation.fence),
        {
          cause: err,
        },
      );
    }
  }
  /** The versions record, only while it still names `expectedCurrent` as current. */
  async putVersionsIfCurrent(versions: VersionFingerprints, expectedCurrent: string): Promise<void> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...versions, sk: "VERSIONS" },
          ConditionExpression: "#current.versionId = :expected",
          ExpressionAttributeNames: { "#current": "current" },
          ExpressionAttributeValues: { ":expected": expectedCurrent },
        }),
      );
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
      throw new RotationInProgressError(refusals.versions(versions.secretId, expectedCurrent), {
        cause: err,
      });
    }
  }
  async listRotations(secretId: string): Promise<RotationRecord[]> {
    const items = await queryAll<Record<string, unknown>>(this.db, {
      TableName: this.table,
      KeyConditionExpression: "secretId = :s AND begins_with(sk, :p)",
      ExpressionAttributeValues: { ":s": secretId, ":p": "ROTATION#" },
    });
    return items
      .map((i) => strip<RotationRecord>(i, "sk"))
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  getSecretState(secretId: string, opts: { fresh?: boolean } = {}): Promise<SecretState> {
    return readSecretState(this.db, this.table, secretId, opts);
  }
}

/** The table key a `listSettingsPage` cursor names (a SETTINGS item's). */
function settingsKeyOf(cursor: string): { secretId: string; sk: string } {
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as {
      secretId?: unknown;
      sk?: unknown;
    };
    if (typeof key.secretId === "string" && key.sk === "SETTINGS")
      return { secretId: key.secretId, sk: "SETTINGS" };
  } catch {
    // reported below
  }
  throw new InvalidInputError(
    "the page cursor is not one keyshift list gave: start again without --next-token",
  );
}
