/**
 * Contract: versions and staging labels (PutSecretValue, UpdateSecretVersionStage,
 * ListSecretVersionIds) — the rules the rotation steps rely on.
 */
import { randomUUID } from "node:crypto";
import {
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { createWithValue, listedVersionIds, put, rejection, sm, stagesOf, target, UUID } from "./helpers";

export function versionsContract(): void {
  describe("PutSecretValue", () => {
    it("without VersionStages makes the new version AWSCURRENT and the old current AWSPREVIOUS", async () => {
      const { name, versionId: v1 } = await createWithValue("put-current");
      const v2 = await put(name, "value-2");

      const v3 = await put(name, "value-3");

      expect(await stagesOf(name)).toEqual({ [v2]: ["AWSPREVIOUS"], [v3]: ["AWSCURRENT"] });
      expect(await listedVersionIds(name, false)).toEqual([v2, v3].sort());
      expect(await listedVersionIds(name, true)).toEqual([v1, v2, v3].sort());
    });

    it("with VersionStages attaches only those labels, moving them off their previous version", async () => {
      const { name, versionId: current } = await createWithValue("put-pending");
      const firstPending = await put(name, "pending-1", ["AWSPENDING"]);

      const response = await sm().send(
        new PutSecretValueCommand({
          SecretId: name,
          SecretString: "pending-2",
          VersionStages: ["AWSPENDING"],
        }),
      );

      expect(response.VersionStages).toEqual(["AWSPENDING"]);
      expect(await stagesOf(name)).toEqual({
        [current]: ["AWSCURRENT"],
        [response.VersionId ?? ""]: ["AWSPENDING"],
      });
      expect(await listedVersionIds(name, true)).toContain(firstPending);
    });

    it("generates a UUID ClientRequestToken in the SDK when none is given", async () => {
      const { name } = await createWithValue("put-auto-token");

      const response = await sm().send(new PutSecretValueCommand({ SecretId: name, SecretString: "auto" }));

      expect(response.VersionId).toMatch(UUID);
    });

    it("is idempotent for the same token and value: no new version, no label change", async () => {
      const { name } = await createWithValue("put-idempotent");
      const pending = await put(name, "pending", ["AWSPENDING"]);
      const before = await stagesOf(name);

      const retried = await sm().send(
        new PutSecretValueCommand({ SecretId: name, SecretString: "pending", ClientRequestToken: pending }),
      );

      expect(retried.VersionId).toBe(pending);
      expect(retried.VersionStages).toEqual(["AWSPENDING"]);
      expect(await stagesOf(name)).toEqual(before);
      expect(await listedVersionIds(name, true)).toHaveLength(2);
    });

    it("refuses the same token with a different value, without echoing either value", async () => {
      const { name } = await createWithValue("put-token-reuse");
      const token = await put(name, "first-value", ["AWSPENDING"]);

      const error = await rejection(
        sm().send(
          new PutSecretValueCommand({
            SecretId: name,
            SecretString: "second-value",
            ClientRequestToken: token,
          }),
        ),
        ResourceExistsException,
        "ResourceExistsException",
      );
      const read = await sm().send(new GetSecretValueCommand({ SecretId: name, VersionId: token }));

      expect(error.message).not.toMatch(/first-value|second-value/);
      expect(read.SecretString).toBe("first-value");
    });

    it("needs a value: neither SecretString nor SecretBinary is InvalidRequestException", async () => {
      const { name } = await createWithValue("put-no-value");

      await rejection(
        sm().send(new PutSecretValueCommand({ SecretId: name })),
        InvalidRequestException,
        "InvalidRequestException",
      );
    });
  });

  describe("UpdateSecretVersionStage", () => {
    it("moving AWSCURRENT moves AWSPREVIOUS to the old current and leaves AWSPENDING in place", async () => {
      const { name, versionId: v1 } = await createWithValue("stage-promote");
      const v2 = await put(name, "value-2");
      const v3 = await put(name, "value-3", ["AWSPENDING"]);

      await sm().send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: "AWSCURRENT",
          MoveToVersionId: v3,
          RemoveFromVersionId: v2,
        }),
      );

      expect(await stagesOf(name)).toEqual({ [v2]: ["AWSPREVIOUS"], [v3]: ["AWSCURRENT", "AWSPENDING"] });
      expect(await listedVersionIds(name, false)).not.toContain(v1);
    });

    it("removing a label with only RemoveFromVersionId detaches it", async () => {
      const { name, versionId: current } = await createWithValue("stage-remove");
      const pending = await put(name, "value-2", ["AWSPENDING"]);

      await sm().send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: "AWSPENDING",
          RemoveFromVersionId: pending,
        }),
      );

      expect(await stagesOf(name)).toEqual({ [current]: ["AWSCURRENT"] });
    });

    it("a version that lost its last label stays readable by VersionId but is listed only with IncludeDeprecated", async () => {
      const { name, versionId: current } = await createWithValue("stage-deprecated");
      const pending = await put(name, "orphan", ["AWSPENDING"]);

      await sm().send(
        new UpdateSecretVersionStageCommand({
          SecretId: name,
          VersionStage: "AWSPENDING",
          RemoveFromVersionId: pending,
        }),
      );
      const read = await sm().send(new GetSecretValueCommand({ SecretId: name, VersionId: pending }));

      expect(read.SecretString).toBe("orphan");
      expect(read.VersionStages ?? []).toEqual([]);
      expect(await listedVersionIds(name, false)).toEqual([current]);
      expect(await listedVersionIds(name, true)).toEqual([current, pending].sort());
    });

    it("refuses to move a label attached elsewhere without RemoveFromVersionId, changing nothing", async () => {
      const { name, versionId: current } = await createWithValue("stage-no-remove");
      const pending = await put(name, "value-2", ["AWSPENDING"]);
      const before = await stagesOf(name);

      await rejection(
        sm().send(
          new UpdateSecretVersionStageCommand({
            SecretId: name,
            VersionStage: "AWSCURRENT",
            MoveToVersionId: pending,
          }),
        ),
        InvalidParameterException,
        "InvalidParameterException",
      );

      expect(await stagesOf(name)).toEqual(before);
      expect(before[current]).toEqual(["AWSCURRENT"]);
    });

    it("refuses a RemoveFromVersionId that does not hold the label, changing nothing", async () => {
      const { name } = await createWithValue("stage-wrong-remove");
      const pending = await put(name, "value-2", ["AWSPENDING"]);
      const other = await put(name, "value-3", ["OTHER"]);
      const before = await stagesOf(name);

      await rejection(
        sm().send(
          new UpdateSecretVersionStageCommand({
            SecretId: name,
            VersionStage: "AWSCURRENT",
            MoveToVersionId: pending,
            RemoveFromVersionId: other,
          }),
        ),
        InvalidParameterException,
        "InvalidParameterException",
      );

      expect(await stagesOf(name)).toEqual(before);
    });

    it("refuses to remove a label from a version that does not hold it, changing nothing", async () => {
      const { name, versionId: current } = await createWithValue("stage-remove-wrong");
      await put(name, "value-2", ["AWSPENDING"]);
      const before = await stagesOf(name);

      await rejection(
        sm().send(
          new UpdateSecretVersionStageCommand({
            SecretId: name,
            VersionStage: "AWSPENDING",
            RemoveFromVersionId: current,
          }),
        ),
        InvalidParameterException,
        "InvalidParameterException",
      );

      expect(await stagesOf(name)).toEqual(before);
    });

    it("answers ResourceNotFoundException for an unknown secret", async () => {
      await rejection(
        sm().send(
          new UpdateSecretVersionStageCommand({
            SecretId: target().name("stage-missing"),
            VersionStage: "AWSPENDING",
            RemoveFromVersionId: randomUUID(),
          }),
        ),
        ResourceNotFoundException,
        "ResourceNotFoundException",
      );
    });
  });

  describe("ListSecretVersionIds", () => {
    it("pages with MaxResults and NextToken, every version exactly once", async () => {
      const { name, versionId: v1 } = await createWithValue("versions-paged");
      const others = [
        await put(name, "2"),
        await put(name, "3", ["A"]),
        await put(name, "4", ["B"]),
        await put(name, "5", ["C"]),
      ];
      const seen: string[] = [];
      let pages = 0;

      let NextToken: string | undefined;
      do {
        const page = await sm().send(
          new ListSecretVersionIdsCommand({ SecretId: name, MaxResults: 2, NextToken }),
        );
        expect(page.Versions?.length ?? 0).toBeLessThanOrEqual(2);
        seen.push(...(page.Versions ?? []).map((version) => version.VersionId ?? ""));
        NextToken = page.NextToken;
        pages += 1;
      } while (NextToken);

      expect(pages).toBeGreaterThanOrEqual(3);
      expect(seen.sort()).toEqual([v1, ...others].sort());
      expect(new Set(seen).size).toBe(seen.length);
    });

    it("lists CreatedDate and the labels of each version", async () => {
      const { name, versionId } = await createWithValue("versions-fields");

      const listed = await sm().send(new ListSecretVersionIdsCommand({ SecretId: name }));

      expect(listed.Name).toBe(name);
      expect(listed.Versions).toHaveLength(1);
      expect(listed.Versions?.[0]).toMatchObject({ VersionId: versionId, VersionStages: ["AWSCURRENT"] });
      expect(listed.Versions?.[0]?.CreatedDate).toBeInstanceOf(Date);
    });
  });
}
