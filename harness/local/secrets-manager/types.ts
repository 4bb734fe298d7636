/** The emulator's state. Plain JSON so it can be written to and read back from the state file. */

export const AWSCURRENT = "AWSCURRENT";
export const AWSPREVIOUS = "AWSPREVIOUS";

/** A secret value: the string as sent, or the binary as its base64 text (as on the wire). */
export type SecretValue = { kind: "string"; data: string } | { kind: "binary"; data: string };

export interface VersionRecord {
  versionId: string;
  /** Creation order within the secret; the pagination cursor for ListSecretVersionIds. */
  seq: number;
  value: SecretValue;
  /** Staging labels on this version; empty means deprecated (kept, like AWS keeps them for a while). */
  stages: string[];
  createdMs: number;
  /** AWS reports this at date resolution (midnight UTC of the access day). */
  lastAccessedMs?: number;
}

export interface Tag {
  Key: string;
  Value: string;
}

export interface SecretRecord {
  arn: string;
  name: string;
  /** Creation order across secrets; the pagination cursor for ListSecrets. */
  seq: number;
  description?: string;
  kmsKeyId?: string;
  tags: Tag[];
  versions: VersionRecord[];
  createdMs: number;
  lastChangedMs: number;
  lastAccessedMs?: number;
  /** Set while the secret is scheduled for deletion: when the request was made. */
  deletedMs?: number;
  /** When the recovery window ends and the secret is purged. */
  deletionDueMs?: number;
  /** The resource policy as put (PutResourcePolicy), enforced on every request (`resource-policy.ts`). */
  resourcePolicy?: string;
}

export interface StateSnapshot {
  formatVersion: 1;
  nextSeq: number;
  secrets: SecretRecord[];
}
