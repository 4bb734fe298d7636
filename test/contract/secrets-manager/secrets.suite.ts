/**
 * Contract: creating secrets and reading their values (CreateSecret, GetSecretValue).
 */
import { randomUUID } from "node:crypto";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  InvalidRequestException,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { createWithValue, put, rejection, sm, stagesOf, target } from "./helpers";

export function secretsContract(): void {
  describe("CreateSecret", () => {
    it("creates the first version as AWSCURRENT, with the ClientRequestToken as its VersionId", async () => {
      const name = target().name("create");
      const token = randomUUID();

      const created = await sm().send(
        new CreateSecretCommand({ Name: name, SecretString: "s3cr3t", ClientRequestToken: token }),
      );
      const read = await sm().send(new GetSecretValueCommand({ SecretId: name }));

      expect(created.Name).toBe(name);
      expect(created.VersionId).toBe(token);
      expect(created.ARN).toMatch(
        /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/,
      );
      expect(created.ARN?.split(":secret:")[1]?.slice(0, -7)).toBe(name);
      expect(read).toMatchObject({ ARN: created.ARN, Name: name, VersionId: token, SecretString: "s3cr3t" });
      expect(read.VersionStages).toEqual(["AWSCURRENT"]);
      expect(read.CreatedDate).toBeInstanceOf(Date);
    });

    it("stores binary values byte for byte", async () => {
      const name = target().name("binary");
      const bytes = new Uint8Array([0, 1, 2, 254, 255]);

      await sm().send(new CreateSecretCommand({ Name: name, SecretBinary: bytes }));
      const read = await sm().send(new GetSecretValueCommand({ SecretId: name }));

      expect(read.SecretString).toBeUndefined();
      expect([...(read.SecretBinary ?? [])]).toEqual([...bytes]);
    });

    it("creates no version without a value", async () => {
      const name = target().name("empty");

      const created = await sm().send(new CreateSecretCommand({ Name: name }));
      const error = await rejection(
        sm().send(new GetSecretValueCommand({ SecretId: name })),
        ResourceNotFoundException,
        "ResourceNotFoundException",
      );

      expect(created.VersionId).toBeUndefined();
      expect(error.message).toBeTruthy();
      expect(Object.keys(await stagesOf(name))).toEqual([]);
    });

    it("refuses a name that is already taken", async () => {
      const { name } = await createWithValue("duplicate");

      await rejection(
        sm().send(new CreateSecretCommand({ Name: name, SecretString: "other" })),
        ResourceExistsException,
        "ResourceExistsException",
      );
    });

    it("refuses SecretString and SecretBinary together", async () => {
      const name = target().name("both-values");

      await rejection(
        sm().send(
          new CreateSecretCommand({ Name: name, SecretString: "a", SecretBinary: new Uint8Array([1]) }),
        ),
        InvalidParameterException,
        "InvalidParameterException",
      );
    });

    it("refuses names outside the documented alphabet or over 512 characters (ValidationException)", async () => {
      for (const bad of [`${target().name("bad")}#hash`, target().name("x".repeat(520))]) {
        await rejection(
          sm().send(new CreateSecretCommand({ Name: bad, SecretString: "v" })),
          SecretsManagerServiceException,
          "ValidationException",
        );
      }
    });

    it("refuses a value over 65,536 bytes without echoing it", async () => {
      const name = target().name("too-large");
      const value = `marker-${"a".repeat(65_536)}`;

      const error = await rejection(
        sm().send(new CreateSecretCommand({ Name: name, SecretString: value })),
        SecretsManagerServiceException,
        "ValidationException",
      );

      expect(error.message).not.toContain("marker-");
    });

    it("refuses a ClientRequestToken shorter than 32 characters", async () => {
      const name = target().name("short-token");

      await rejection(
        sm().send(
          new CreateSecretCommand({ Name: name, SecretString: "v", ClientRequestToken: "x".repeat(31) }),
        ),
        SecretsManagerServiceException,
        "ValidationException",
      );
    });
  });

  describe("GetSecretValue", () => {
    it("reads by name, by ARN, by VersionId and by VersionStage", async () => {
      const { name, versionId: first } = await createWithValue("get", "one");
      const second = await put(name, "two");
      const arn = (await sm().send(new DescribeSecretCommand({ SecretId: name }))).ARN;

      const byName = await sm().send(new GetSecretValueCommand({ SecretId: name }));
      const byArn = await sm().send(new GetSecretValueCommand({ SecretId: arn }));
      const byId = await sm().send(new GetSecretValueCommand({ SecretId: name, VersionId: first }));
      const byStage = await sm().send(
        new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPREVIOUS" }),
      );
      const byBoth = await sm().send(
        new GetSecretValueCommand({ SecretId: name, VersionId: second, VersionStage: "AWSCURRENT" }),
      );

      expect([byName.VersionId, byName.SecretString]).toEqual([second, "two"]);
      expect([byArn.VersionId, byArn.SecretString]).toEqual([second, "two"]);
      expect([byId.SecretString, byId.VersionStages]).toEqual(["one", ["AWSPREVIOUS"]]);
      expect(byStage.VersionId).toBe(first);
      expect(byBoth.SecretString).toBe("two");
    });

    it("answers ResourceNotFoundException for an unknown secret, VersionId or stage", async () => {
      const { name } = await createWithValue("get-missing");

      await rejection(
        sm().send(new GetSecretValueCommand({ SecretId: target().name("never-created") })),
        ResourceNotFoundException,
        "ResourceNotFoundException",
      );
      await rejection(
        sm().send(new GetSecretValueCommand({ SecretId: name, VersionId: randomUUID() })),
        ResourceNotFoundException,
        "ResourceNotFoundException",
      );
      await rejection(
        sm().send(new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPENDING" })),
        ResourceNotFoundException,
        "ResourceNotFoundException",
      );
    });

    it("answers InvalidRequestException when VersionId and VersionStage name different versions", async () => {
      const { name, versionId } = await createWithValue("get-mismatch");
      await put(name, "pending", ["AWSPENDING"]);

      await rejection(
        sm().send(
          new GetSecretValueCommand({ SecretId: name, VersionId: versionId, VersionStage: "AWSPENDING" }),
        ),
        InvalidRequestException,
        "InvalidRequestException",
      );
    });
  });
}
