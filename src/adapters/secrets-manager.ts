import {
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { RotationStateError } from "../core/errors";
import type { SecretPolicyStore, SecretStore, SecretVersionInfo } from "../core/ports";

/**
 * Secrets Manager behind the `SecretStore` and `SecretPolicyStore` ports. Values pass through here
 * and go nowhere else than the caller; errors carry the secret id and version id only.
 */
export class SecretsManagerStore implements SecretStore, SecretPolicyStore {
  constructor(private readonly sm: SecretsManagerClient) {}

  async listVersions(secretId: string): Promise<SecretVersionInfo[]> {
    const versions: SecretVersionInfo[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId, NextToken }));
      for (const v of page.Versions ?? []) {
        if (v.VersionId) versions.push({ versionId: v.VersionId, stages: v.VersionStages ?? [] });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return versions;
  }

  async getValue(secretId: string, select: { versionId?: string; stage?: string }) {
    const out = await this.sm.send(
      new GetSecretValueCommand({
        SecretId: secretId,
        VersionId: select.versionId,
        VersionStage: select.stage,
      }),
    );
    if (out.SecretString === undefined || !out.VersionId) {
      throw new RotationStateError(`secret ${secretId} version ${out.VersionId ?? "?"} has no SecretString`);
    }
    return { versionId: out.VersionId, value: out.SecretString };
  }

  async putPending(secretId: string, token: string, value: string) {
    const out = await this.sm.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        SecretString: value,
        VersionStages: ["AWSPENDING"],
      }),
    );
    return { versionId: out.VersionId ?? token };
  }

  async moveStage(secretId: string, stage: string, move: { to?: string; from?: string }) {
    await this.sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretId,
        VersionStage: stage,
        MoveToVersionId: move.to,
        RemoveFromVersionId: move.from,
      }),
    );
  }

  async getResourcePolicy(secretId: string): Promise<string | undefined> {
    const out = await this.sm.send(new GetResourcePolicyCommand({ SecretId: secretId }));
    return out.ResourcePolicy;
  }

  async putResourcePolicy(secretId: string, document: string): Promise<void> {
    // BlockPublicPolicy: a policy that would grant broad access is refused by the service, whoever
    // edits the document later with this adapter.
    await this.sm.send(
      new PutResourcePolicyCommand({ SecretId: secretId, ResourcePolicy: document, BlockPublicPolicy: true }),
    );
  }

  async deleteResourcePolicy(secretId: string): Promise<void> {
    await this.sm.send(new DeleteResourcePolicyCommand({ SecretId: secretId }));
  }
}
