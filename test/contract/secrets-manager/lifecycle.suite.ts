/**
 * Contract: metadata, listing and deletion (DescribeSecret, tags, ListSecrets, DeleteSecret,
 * RestoreSecret).
 */
import { randomUUID } from "node:crypto";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { eventually } from "../secrets-manager-target";
import { createWithValue, DAY_MS, rejection, sm, target } from "./helpers";

export function lifecycleContract(): void {
  describe("DescribeSecret, tags", () => {
    it("describes labels, tags and dates", async () => {
      const name = target().name("describe");
      const token = randomUUID();
      await sm().send(
        new CreateSecretCommand({
          Name: name,
          SecretString: "v",
          ClientRequestToken: token,
          Description: "for the contract",
          Tags: [{ Key: "team", Value: "keyshift" }],
        }),
      );

      const described = await sm().send(new DescribeSecretCommand({ SecretId: name }));

      expect(described).toMatchObject({ Name: name, Description: "for the contract" });
      expect(described.VersionIdsToStages).toEqual({ [token]: ["AWSCURRENT"] });
      expect(described.Tags).toEqual([{ Key: "team", Value: "keyshift" }]);
      expect(described.CreatedDate).toBeInstanceOf(Date);
      expect(described.LastChangedDate).toBeInstanceOf(Date);
      expect(described.DeletedDate).toBeUndefined();
    });

    it("TagResource adds and overwrites tags; UntagResource removes them", async () => {
      const name = target().name("tags");
      await sm().send(
        new CreateSecretCommand({
          Name: name,
          Tags: [
            { Key: "a", Value: "1" },
            { Key: "b", Value: "2" },
          ],
        }),
      );

      await sm().send(
        new TagResourceCommand({
          SecretId: name,
          Tags: [
            { Key: "b", Value: "20" },
            { Key: "c", Value: "3" },
          ],
        }),
      );
      await sm().send(new UntagResourceCommand({ SecretId: name, TagKeys: ["a", "not-there"] }));
      const described = await sm().send(new DescribeSecretCommand({ SecretId: name }));

      const tags = (described.Tags ?? []).map((tag) => `${tag.Key}=${tag.Value}`).sort();
      expect(tags).toEqual(["b=20", "c=3"]);
    });
  });

  describe("ListSecrets", () => {
    it("filters by name prefix and pages with MaxResults and NextToken", async () => {
      const names = [target().name("listed/one"), target().name("listed/two"), target().name("listed/three")];
      const prefix = names[0]?.slice(0, names[0].lastIndexOf("/") + 1) ?? "";
      for (const name of names) await sm().send(new CreateSecretCommand({ Name: name, SecretString: "v" }));
      await sm().send(
        new CreateSecretCommand({ Name: target().name("listed-not-a-child"), SecretString: "v" }),
      );

      const found = await eventually(async () => {
        const seen: string[] = [];
        let NextToken: string | undefined;
        do {
          const page = await sm().send(
            new ListSecretsCommand({
              Filters: [{ Key: "name", Values: [prefix] }],
              MaxResults: 1,
              NextToken,
            }),
          );
          seen.push(...(page.SecretList ?? []).map((secret) => secret.Name ?? ""));
          NextToken = page.NextToken;
        } while (NextToken);
        expect(seen.sort()).toEqual([...names].sort());
        return seen;
      });

      expect(found).toHaveLength(3);
    });

    it("lists SecretVersionsToStages for each secret", async () => {
      const { name, versionId } = await createWithValue("listed-stages");

      const entry = await eventually(async () => {
        const listed = await sm().send(
          new ListSecretsCommand({ Filters: [{ Key: "name", Values: [name] }] }),
        );
        const match = listed.SecretList?.find((secret) => secret.Name === name);
        expect(match).toBeDefined();
        return match;
      });

      expect(entry?.SecretVersionsToStages).toEqual({ [versionId]: ["AWSCURRENT"] });
    });
  });

  describe("DeleteSecret", () => {
    it("schedules deletion: reads and writes are refused, the secret is described and restorable", async () => {
      const { name } = await createWithValue("delete-scheduled", "kept");
      const requestedAt = Date.now();

      const deleted = await sm().send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));
      const described = await sm().send(new DescribeSecretCommand({ SecretId: name }));

      expect(Math.abs((deleted.DeletionDate?.getTime() ?? 0) - (requestedAt + 7 * DAY_MS))).toBeLessThan(
        5 * 60_000,
      );
      expect(described.DeletedDate).toBeInstanceOf(Date);
      await rejection(
        sm().send(new GetSecretValueCommand({ SecretId: name })),
        InvalidRequestException,
        "InvalidRequestException",
      );
      await rejection(
        sm().send(new PutSecretValueCommand({ SecretId: name, SecretString: "new" })),
        InvalidRequestException,
        "InvalidRequestException",
      );

      await sm().send(new RestoreSecretCommand({ SecretId: name }));
      const restored = await sm().send(new GetSecretValueCommand({ SecretId: name }));
      expect(restored.SecretString).toBe("kept");
      expect((await sm().send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBeUndefined();
    });

    it("uses a 30-day recovery window by default and hides the secret from ListSecrets", async () => {
      const { name } = await createWithValue("delete-default");
      const requestedAt = Date.now();

      const deleted = await sm().send(new DeleteSecretCommand({ SecretId: name }));

      expect(Math.abs((deleted.DeletionDate?.getTime() ?? 0) - (requestedAt + 30 * DAY_MS))).toBeLessThan(
        5 * 60_000,
      );
      await eventually(async () => {
        const hidden = await sm().send(
          new ListSecretsCommand({ Filters: [{ Key: "name", Values: [name] }] }),
        );
        const shown = await sm().send(
          new ListSecretsCommand({
            Filters: [{ Key: "name", Values: [name] }],
            IncludePlannedDeletion: true,
          }),
        );
        expect(hidden.SecretList?.map((secret) => secret.Name)).not.toContain(name);
        expect(shown.SecretList?.map((secret) => secret.Name)).toContain(name);
      });
    });

    it("refuses a recovery window outside 7–30 days, and a window together with ForceDeleteWithoutRecovery", async () => {
      const { name } = await createWithValue("delete-invalid");

      await rejection(
        sm().send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 6 })),
        InvalidParameterException,
        "InvalidParameterException",
      );
      await rejection(
        sm().send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 31 })),
        InvalidParameterException,
        "InvalidParameterException",
      );
      await rejection(
        sm().send(
          new DeleteSecretCommand({
            SecretId: name,
            RecoveryWindowInDays: 7,
            ForceDeleteWithoutRecovery: true,
          }),
        ),
        InvalidParameterException,
        "InvalidParameterException",
      );
      expect((await sm().send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("value-1");
    });

    it("ForceDeleteWithoutRecovery removes the secret for good", async () => {
      const { name } = await createWithValue("delete-force");

      await sm().send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));

      await eventually(() =>
        rejection(
          sm().send(new DescribeSecretCommand({ SecretId: name })),
          ResourceNotFoundException,
          "ResourceNotFoundException",
        ),
      );
    });
  });
}
