/**
 * Contract: the JSON 1.1 wire protocol under the SDK, and (emulator only) the state file.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { startSecretsManagerEmulator } from "../../../harness/local/secrets-manager/server";
import { isExternalTarget, localPrincipals } from "../secrets-manager-target";
import { target } from "./helpers";

export function wireContract(): void {
  describe("wire protocol", () => {
    it("answers an unknown operation with UnknownOperationException and a request id", async () => {
      const response = await target().rawCall("secretsmanager.NoSuchOperation", "{}");

      expect(response.status).toBe(400);
      expect(String(response.body.__type).split("#").pop()).toBe("UnknownOperationException");
      expect(response.requestId).toBeTruthy();
    });

    it("answers a body that is not JSON with SerializationException", async () => {
      const response = await target().rawCall("secretsmanager.ListSecrets", "{not json");

      expect(response.status).toBe(400);
      expect(String(response.body.__type).split("#").pop()).toBe("SerializationException");
    });
  });

  describe.skipIf(isExternalTarget())("emulator state file", () => {
    it("persists secrets, versions, labels, tags and deletions across a restart", async () => {
      const directory = await mkdtemp(join(tmpdir(), "keyshift-sm-state-"));
      const stateFile = join(directory, "nested", "secrets.json");
      const { iam, operator } = localPrincipals();
      const clientFor = (endpoint: string) =>
        new SecretsManagerClient({ endpoint, region: "us-east-1", credentials: operator });
      try {
        const first = await startSecretsManagerEmulator({ stateFile, callers: iam });
        const before = clientFor(first.endpoint);
        const created = await before.send(
          new CreateSecretCommand({ Name: "kept", SecretString: "v1", Tags: [{ Key: "t", Value: "1" }] }),
        );
        const pending = await before.send(
          new PutSecretValueCommand({ SecretId: "kept", SecretString: "v2", VersionStages: ["AWSPENDING"] }),
        );
        await before.send(new CreateSecretCommand({ Name: "doomed", SecretString: "x" }));
        await before.send(new DeleteSecretCommand({ SecretId: "doomed", RecoveryWindowInDays: 7 }));
        before.destroy();
        await first.close();

        const second = await startSecretsManagerEmulator({ stateFile, callers: iam });
        const after = clientFor(second.endpoint);
        const described = await after.send(new DescribeSecretCommand({ SecretId: created.ARN }));
        const pendingValue = await after.send(
          new GetSecretValueCommand({ SecretId: "kept", VersionStage: "AWSPENDING" }),
        );
        const doomed = await after.send(new DescribeSecretCommand({ SecretId: "doomed" }));
        after.destroy();
        await second.close();

        expect(described.VersionIdsToStages).toEqual({
          [created.VersionId ?? ""]: ["AWSCURRENT"],
          [pending.VersionId ?? ""]: ["AWSPENDING"],
        });
        expect(described.Tags).toEqual([{ Key: "t", Value: "1" }]);
        expect(pendingValue.SecretString).toBe("v2");
        expect(doomed.DeletedDate).toBeInstanceOf(Date);
        expect(await readdir(join(directory, "nested"))).toEqual(["secrets.json"]);
        expect(JSON.parse(await readFile(stateFile, "utf8"))).toMatchObject({ formatVersion: 1 });
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    });
  });
}
