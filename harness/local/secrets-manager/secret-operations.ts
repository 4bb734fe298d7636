/**
 * Operations on whole secrets: CreateSecret, DescribeSecret, UpdateSecret, DeleteSecret,
 * RestoreSecret, ListSecrets, TagResource, UntagResource. Each validates its whole input
 * before it touches state, so a refused request changes nothing.
 */
import { invalidParameter, invalidRequest, resourceExists, secretNotFound } from "./errors";
import { findVersion } from "./labels";
import { matchesFilters, readFilters } from "./list-filters";
import { paginate, sortable } from "./pagination";
import type { SecretsStore } from "./store";
import type { SecretRecord, Tag } from "./types";
import {
  asString,
  asStructure,
  checkEnum,
  checkLength,
  checkRange,
  checkSecretName,
  type Input,
  optionalBoolean,
  optionalInteger,
  optionalList,
  optionalString,
  requiredList,
  requiredString,
} from "./validation";
import { putVersion, readOptionalValue, readSecretId, readToken, requireToken } from "./version-operations";
import { describeSecretOutput, type Output, sameValue, seconds, secretListEntry } from "./wire";

const DAY_MS = 86_400_000;

function readTags(input: Input, required: boolean): Tag[] {
  const list = required ? requiredList(input, "Tags") : (optionalList(input, "Tags") ?? []);
  return list.map((raw, index) => {
    const path = `tags.${index + 1}.member`;
    const entry = asStructure(raw, "Tags");
    const key = requiredString(entry, "Key");
    checkLength(key, `${path}.key`, 1, 128);
    const value = optionalString(entry, "Value") ?? "";
    checkLength(value, `${path}.value`, 0, 256);
    return { Key: key, Value: value };
  });
}

/** Tag keys are case-sensitive; a key given again replaces its value. */
function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
  const byKey = new Map(existing.map((tag) => [tag.Key, tag]));
  for (const tag of added) byKey.set(tag.Key, tag);
  return [...byKey.values()];
}

function readDescriptionAndKey(input: Input): { description?: string; kmsKeyId?: string } {
  const description = optionalString(input, "Description");
  checkLength(description, "Description", 0, 2048);
  const kmsKeyId = optionalString(input, "KmsKeyId");
  checkLength(kmsKeyId, "KmsKeyId", 0, 2048);
  return { description, kmsKeyId };
}

export function createSecret(store: SecretsStore, input: Input): Output {
  const name = requiredString(input, "Name");
  checkSecretName(name);
  const token = readToken(input);
  const { description, kmsKeyId } = readDescriptionAndKey(input);
  const tags = readTags(input, false);
  const value = readOptionalValue(input);
  if (value) requireToken(token);

  const existing = store.byName(name);
  if (existing) {
    if (existing.deletedMs !== undefined) {
      throw invalidRequest(
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    // Documented for ClientRequestToken: a retry with the same token and value is ignored.
    const retried = value && token !== undefined ? findVersion(existing, token) : undefined;
    if (value && retried && sameValue(retried.value, value)) {
      return { ARN: existing.arn, Name: existing.name, VersionId: retried.versionId };
    }
    throw resourceExists(`The operation failed because the secret ${name} already exists.`);
  }

  const now = store.now();
  const secret: SecretRecord = {
    arn: store.newArn(name),
    name,
    seq: store.nextSequence(),
    tags: mergeTags([], tags),
    versions: [],
    createdMs: now,
    lastChangedMs: now,
  };
  if (description !== undefined) secret.description = description;
  if (kmsKeyId !== undefined) secret.kmsKeyId = kmsKeyId;
  store.add(secret);
  const out: Output = { ARN: secret.arn, Name: secret.name };
  if (value) out.VersionId = putVersion(store, secret, requireToken(token), value, undefined).versionId;
  return out;
}

export function describeSecret(store: SecretsStore, input: Input): Output {
  return describeSecretOutput(store.require(readSecretId(input)));
}

export function updateSecret(store: SecretsStore, input: Input): Output {
  const secretId = readSecretId(input);
  const token = readToken(input);
  const { description, kmsKeyId } = readDescriptionAndKey(input);
  const value = readOptionalValue(input);
  if (value) requireToken(token);

  const secret = store.requireActive(secretId);
  // Unlike PutSecretValue, UpdateSecret documents any reuse of an existing VersionId as an error.
  if (value && token !== undefined && findVersion(secret, token)) {
    throw resourceExists(`A version with the ClientRequestToken ${token} already exists.`);
  }
  if (description !== undefined) secret.description = description;
  if (kmsKeyId !== undefined) secret.kmsKeyId = kmsKeyId;
  secret.lastChangedMs = store.now();
  store.markChanged();
  const out: Output = { ARN: secret.arn, Name: secret.name };
  if (value) out.VersionId = putVersion(store, secret, requireToken(token), value, undefined).versionId;
  return out;
}

export function deleteSecret(store: SecretsStore, input: Input): Output {
  const secretId = readSecretId(input);
  const recoveryWindowInDays = optionalInteger(input, "RecoveryWindowInDays");
  const force = optionalBoolean(input, "ForceDeleteWithoutRecovery") ?? false;
  if (recoveryWindowInDays !== undefined && force) {
    throw invalidParameter(
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    );
  }
  if (recoveryWindowInDays !== undefined && (recoveryWindowInDays < 7 || recoveryWindowInDays > 30)) {
    throw invalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
  }

  const secret = store.resolve(secretId);
  const now = store.now();
  if (force) {
    // Documented: forcing the deletion of a missing or already deleted secret is not an error.
    if (!secret)
      return {
        ...(secretId.startsWith("arn:") ? { ARN: secretId } : { Name: secretId }),
        DeletionDate: seconds(now),
      };
    store.remove(secret);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(now) };
  }
  if (!secret) throw secretNotFound();
  if (secret.deletedMs !== undefined) {
    throw invalidRequest("You tried to perform the operation on a secret that's currently marked deleted.");
  }
  secret.deletedMs = now;
  secret.deletionDueMs = now + (recoveryWindowInDays ?? 30) * DAY_MS;
  secret.lastChangedMs = now;
  store.markChanged();
  return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(secret.deletionDueMs) };
}

export function restoreSecret(store: SecretsStore, input: Input): Output {
  const secret = store.require(readSecretId(input));
  if (secret.deletedMs !== undefined) {
    delete secret.deletedMs;
    delete secret.deletionDueMs;
    secret.lastChangedMs = store.now();
    store.markChanged();
  }
  return { ARN: secret.arn, Name: secret.name };
}

const SORT_BY = ["created-date", "last-accessed-date", "last-changed-date", "name"] as const;

function sortKey(sortBy: string): (secret: SecretRecord) => string {
  switch (sortBy) {
    case "name":
      return (secret) => secret.name;
    case "last-changed-date":
      return (secret) => `${sortable(secret.lastChangedMs)}:${sortable(secret.seq)}`;
    case "last-accessed-date":
      return (secret) => `${sortable(secret.lastAccessedMs ?? 0)}:${sortable(secret.seq)}`;
    default:
      return (secret) => sortable(secret.seq);
  }
}

export function listSecrets(store: SecretsStore, input: Input): Output {
  const includePlannedDeletion = optionalBoolean(input, "IncludePlannedDeletion") ?? false;
  const maxResults = optionalInteger(input, "MaxResults");
  checkRange(maxResults, "MaxResults", 1, 100);
  const nextToken = optionalString(input, "NextToken");
  checkLength(nextToken, "NextToken", 1, 4096);
  const filters = readFilters(input);
  const sortOrder = optionalString(input, "SortOrder") ?? "asc";
  checkEnum(sortOrder, "SortOrder", ["asc", "desc"]);
  const sortBy = optionalString(input, "SortBy") ?? "created-date";
  checkEnum(sortBy, "SortBy", SORT_BY);

  const secrets = store
    .all()
    .filter((secret) => includePlannedDeletion || secret.deletedMs === undefined)
    .filter((secret) => matchesFilters(secret, filters, store.region));
  const { page, nextToken: next } = paginate(secrets, sortKey(sortBy), {
    scope: `secrets:${JSON.stringify([includePlannedDeletion, filters, sortOrder, sortBy])}`,
    nextToken,
    maxResults: maxResults ?? 100,
    descending: sortOrder === "desc",
  });
  const out: Output = { SecretList: page.map(secretListEntry) };
  if (next) out.NextToken = next;
  return out;
}

export function tagResource(store: SecretsStore, input: Input): Output {
  const secretId = readSecretId(input);
  const tags = readTags(input, true);
  const secret = store.requireActive(secretId);
  secret.tags = mergeTags(secret.tags, tags);
  secret.lastChangedMs = store.now();
  store.markChanged();
  return {};
}

export function untagResource(store: SecretsStore, input: Input): Output {
  const secretId = readSecretId(input);
  const keys = requiredList(input, "TagKeys").map((key) => asString(key, "TagKeys"));
  for (const key of keys) checkLength(key, "tagKeys.member", 1, 128);
  const secret = store.requireActive(secretId);
  secret.tags = secret.tags.filter((tag) => !keys.includes(tag.Key));
  secret.lastChangedMs = store.now();
  store.markChanged();
  return {};
}
