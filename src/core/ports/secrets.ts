/** Secrets Manager as keyshift uses it: the key versions and their labels, and the resource policy. */
export interface SecretVersionInfo {
  versionId: string;
  stages: string[];
}

/** Secrets Manager as the workflow needs it. `value` strings are secret: never log them. */
export interface SecretStore {
  listVersions(secretId: string): Promise<SecretVersionInfo[]>;
  getValue(
    secretId: string,
    select: { versionId?: string; stage?: string },
  ): Promise<{ versionId: string; value: string }>;
  /** PutSecretValue with `VersionStages: ["AWSPENDING"]`; the token makes a retry harmless. */
  putPending(secretId: string, token: string, value: string): Promise<{ versionId: string }>;
  /** UpdateSecretVersionStage. */
  moveStage(secretId: string, stage: string, move: { to?: string; from?: string }): Promise<void>;
}

/**
 * A secret's resource policy (Secrets Manager Get/Put/DeleteResourcePolicy). keyshift writes only
 * the read policy the registry calls for (`core/read-policy.ts`), always with `BlockPublicPolicy`.
 */
export interface SecretPolicyStore {
  /** The policy document as stored, or undefined when the secret has none. */
  getResourcePolicy(secretId: string): Promise<string | undefined>;
  /** PutResourcePolicy with `BlockPublicPolicy: true`. */
  putResourcePolicy(secretId: string, document: string): Promise<void>;
  deleteResourcePolicy(secretId: string): Promise<void>;
}
