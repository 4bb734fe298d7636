/**
 * Response shapes. Timestamps go out as epoch seconds (fractional), as the JSON 1.1 protocol
 * carries them; optional members are omitted rather than sent as null, as AWS does.
 */
import type { SecretRecord, SecretValue, Tag, VersionRecord } from "./types";

export type Output = Record<string, unknown>;

export const seconds = (ms: number): number => ms / 1000;

export function valueMembers(value: SecretValue): Output {
  return value.kind === "string" ? { SecretString: value.data } : { SecretBinary: value.data };
}

export function sameValue(a: SecretValue, b: SecretValue): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "string") return a.data === b.data;
  return Buffer.from(a.data, "base64").equals(Buffer.from(b.data, "base64"));
}

/** Only versions that carry a label; deprecated ones are not listed here. */
export function versionsToStages(secret: SecretRecord): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const version of secret.versions)
    if (version.stages.length > 0) map[version.versionId] = [...version.stages];
  return map;
}

const copyTags = (tags: Tag[]): Tag[] => tags.map((tag) => ({ Key: tag.Key, Value: tag.Value }));

function metadata(secret: SecretRecord): Output {
  const out: Output = { ARN: secret.arn, Name: secret.name };
  if (secret.description !== undefined) out.Description = secret.description;
  if (secret.kmsKeyId !== undefined && secret.kmsKeyId !== "") out.KmsKeyId = secret.kmsKeyId;
  out.LastChangedDate = seconds(secret.lastChangedMs);
  if (secret.lastAccessedMs !== undefined) out.LastAccessedDate = seconds(secret.lastAccessedMs);
  if (secret.deletedMs !== undefined) out.DeletedDate = seconds(secret.deletedMs);
  if (secret.tags.length > 0) out.Tags = copyTags(secret.tags);
  out.CreatedDate = seconds(secret.createdMs);
  return out;
}

export function describeSecretOutput(secret: SecretRecord): Output {
  return { ...metadata(secret), VersionIdsToStages: versionsToStages(secret) };
}

export function secretListEntry(secret: SecretRecord): Output {
  return { ...metadata(secret), SecretVersionsToStages: versionsToStages(secret) };
}

export function versionListEntry(version: VersionRecord): Output {
  const out: Output = { VersionId: version.versionId };
  if (version.stages.length > 0) out.VersionStages = [...version.stages];
  if (version.lastAccessedMs !== undefined) out.LastAccessedDate = seconds(version.lastAccessedMs);
  out.CreatedDate = seconds(version.createdMs);
  return out;
}
