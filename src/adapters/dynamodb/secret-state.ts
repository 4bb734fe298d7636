import { BatchGetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { LockRecord, SecretSettings, SecretState, VersionFingerprints } from "../../core/model";
import { strip } from "./client";

const ITEMS = ["SETTINGS", "VERSIONS", "LOCK"];
/** BatchGetItem may hand keys back unprocessed (throttling): asked again this many times at most. */
const MAX_TRIES = 5;

/**
 * SETTINGS, VERSIONS and LOCK of a secret in one BatchGetItem: everything the heartbeat answers
 * from. Eventually consistent unless `fresh` — the heartbeat caches the answer for seconds anyway,
 * and reads it consistently before it classifies and audits a change of fingerprint.
 */
export async function readSecretState(
  db: DynamoDBDocumentClient,
  table: string,
  secretId: string,
  opts: { fresh?: boolean } = {},
): Promise<SecretState> {
  const ConsistentRead = opts.fresh === true;
  const found: Record<string, Record<string, unknown>> = {};
  let keys: Record<string, unknown>[] = ITEMS.map((sk) => ({ secretId, sk }));
  for (let attempt = 0; keys.length > 0; attempt++) {
    if (attempt === MAX_TRIES) {
      throw new Error(
        `reading the state of ${secretId}: ${keys.length} keys unprocessed after ${MAX_TRIES} tries`,
      );
    }
    const out = await db.send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead } } }),
    );
    for (const item of out.Responses?.[table] ?? []) found[String(item.sk)] = strip(item, "sk");
    keys = out.UnprocessedKeys?.[table]?.Keys ?? [];
  }
  return {
    settings: found.SETTINGS as SecretSettings | undefined,
    versions: found.VERSIONS as VersionFingerprints | undefined,
    lock: found.LOCK as LockRecord | undefined,
  };
}
