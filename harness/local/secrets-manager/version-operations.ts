/**
 * Operations on a secret's versions and staging labels: GetSecretValue, PutSecretValue,
 * UpdateSecretVersionStage, ListSecretVersionIds. Each validates its whole input before it
 * touches state, so a refused request changes nothing.
 */
import { invalidParameter, invalidRequest, resourceExists, resourceNotFound } from "./errors";
import { attachStage, findVersion, holderOf, moveStage } from "./labels";
import { paginate, sortable } from "./pagination";
import type { SecretsStore } from "./store";
import { AWSCURRENT, type SecretRecord, type SecretValue, type VersionRecord } from "./types";
import {
  asString,
  checkLength,
  checkListLength,
  checkRange,
  checkSecretId,
  checkStage,
  checkVersionId,
  type Input,
  optionalBoolean,
  optionalInteger,
  optionalList,
  optionalString,
  readSecretValue,
  requiredString,
} from "./validation";
import { type Output, sameValue, seconds, valueMembers, versionListEntry } from "./wire";

export function readSecretId(input: Input): string {
  const secretId = requiredString(input, "SecretId");
  checkSecretId(secretId);
  return secretId;
}

/** ClientRequestToken as AWS reads it: 32–64 characters; it becomes the new VersionId. */
export function readToken(input: Input): string | undefined {
  const token = optionalString(input, "ClientRequestToken");
  checkLength(token, "ClientRequestToken", 32, 64);
  return token;
}

/** The SDKs always fill the token in; only raw HTTP callers can leave it out. */
export function requireToken(token: string | undefined): string {
  if (token === undefined) {
    throw invalidRequest("You must provide a ClientRequestToken value. We recommend a UUID-type value.");
  }
  return token;
}

/** At most one of SecretString / SecretBinary; both together is a parameter error. */
export function readOptionalValue(input: Input): SecretValue | undefined {
  const { string, binary } = readSecretValue(input);
  if (string && binary) {
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  return string ?? binary;
}

/** Exactly one of SecretString / SecretBinary. */
export function readRequiredValue(input: Input): SecretValue {
  const value = readOptionalValue(input);
  if (!value) throw invalidRequest("You must provide either SecretString or SecretBinary.");
  return value;
}

/**
 * Adds a version under `token`, or recognises a retry. Same token + same value: the request
 * is ignored (no new version, labels untouched). Same token + another value: refused, because
 * a version never changes. Without `stages` the new version becomes AWSCURRENT; the first
 * version of a secret always does.
 */
export function putVersion(
  store: SecretsStore,
  secret: SecretRecord,
  token: string,
  value: SecretValue,
  stages: string[] | undefined,
): VersionRecord {
  const existing = findVersion(secret, token);
  if (existing) {
    if (sameValue(existing.value, value)) return existing;
    throw resourceExists(
      `A version with the ClientRequestToken ${token} already exists with a different value. You can't modify an existing version; use a new ClientRequestToken.`,
    );
  }
  const now = store.now();
  const isFirst = secret.versions.length === 0;
  const version: VersionRecord = {
    versionId: token,
    seq: store.nextSequence(),
    value,
    stages: [],
    createdMs: now,
  };
  secret.versions.push(version);
  for (const stage of stages ?? [AWSCURRENT]) attachStage(secret, version, stage);
  if (isFirst) attachStage(secret, version, AWSCURRENT);
  secret.lastChangedMs = now;
  store.markChanged();
  return version;
}

export function getSecretValue(store: SecretsStore, input: Input): Output {
  const secretId = readSecretId(input);
  const versionId = optionalString(input, "VersionId");
  checkVersionId(versionId, "VersionId");
  const versionStage = optionalString(input, "VersionStage");
  checkStage(versionStage, "VersionStage");

  const secret = store.requireActive(secretId);
  let version: VersionRecord | undefined;
  if (versionId !== undefined) {
    version = findVersion(secret, versionId);
    if (!version)
      throw resourceNotFound(
        `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
      );
    if (versionStage !== undefined && !version.stages.includes(versionStage)) {
      throw invalidRequest("You provided a VersionStage that is not associated to the provided VersionId.");
    }
  } else {
    const stage = versionStage ?? AWSCURRENT;
    version = holderOf(secret, stage);
    if (!version)
      throw resourceNotFound(
        `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
      );
  }

  const today = store.today();
  if (secret.lastAccessedMs !== today || version.lastAccessedMs !== today) {
    secret.lastAccessedMs = today;
    version.lastAccessedMs = today;
    store.markChanged();
  }
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    ...valueMembers(version.value),
    VersionStages: [...version.stages],
    CreatedDate: seconds(version.createdMs),
  };
}

function readStages(input: Input): string[] | undefined {
  const list = optionalList(input, "VersionStages");
  checkListLength(list, "VersionStages", 1, 20);
  const stages = list?.map((item) => asString(item, "VersionStages"));
  for (const stage of stages ?? []) checkStage(stage, "VersionStages.member");
  return stages;
}

export function putSecretValue(store: SecretsStore, input: Input): Output {
  const secretId = readSecretId(input);
  const token = readToken(input);
  const value = readRequiredValue(input);
  const stages = readStages(input);
  optionalString(input, "RotationToken");

  const secret = store.requireActive(secretId);
  const version = putVersion(store, secret, requireToken(token), value, stages);
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    VersionStages: [...version.stages],
  };
}

export function updateSecretVersionStage(store: SecretsStore, input: Input): Output {
  const secretId = readSecretId(input);
  const stage = requiredString(input, "VersionStage");
  checkStage(stage, "VersionStage");
  const moveToVersionId = optionalString(input, "MoveToVersionId");
  checkVersionId(moveToVersionId, "MoveToVersionId");
  const removeFromVersionId = optionalString(input, "RemoveFromVersionId");
  checkVersionId(removeFromVersionId, "RemoveFromVersionId");

  const secret = store.requireActive(secretId);
  moveStage(secret, { stage, moveToVersionId, removeFromVersionId });
  secret.lastChangedMs = store.now();
  store.markChanged();
  return { ARN: secret.arn, Name: secret.name };
}

export function listSecretVersionIds(store: SecretsStore, input: Input): Output {
  const secretId = readSecretId(input);
  const maxResults = optionalInteger(input, "MaxResults");
  checkRange(maxResults, "MaxResults", 1, 100);
  const nextToken = optionalString(input, "NextToken");
  checkLength(nextToken, "NextToken", 1, 4096);
  const includeDeprecated = optionalBoolean(input, "IncludeDeprecated") ?? false;

  // The API model lists no InvalidRequestException here: versions stay listable during deletion.
  const secret = store.require(secretId);
  const versions = secret.versions.filter((version) => includeDeprecated || version.stages.length > 0);
  const { page, nextToken: next } = paginate(versions, (version) => sortable(version.seq), {
    scope: `versions:${secret.arn}:${includeDeprecated}`,
    nextToken,
    maxResults: maxResults ?? 100,
  });
  const out: Output = { Versions: page.map(versionListEntry), ARN: secret.arn, Name: secret.name };
  if (next) out.NextToken = next;
  return out;
}
