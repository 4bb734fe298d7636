/**
 * Contract: resource policies (Get/Put/DeleteResourcePolicy, BlockPublicPolicy) and what an explicit
 * Deny in one does to GetSecretValue — the `AccessDeniedException` keyshift's read policy relies on,
 * down to its wire shape. Written against the SDK as AWS documents it; runs against AWS too.
 */
import {
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  MalformedPolicyDocumentException,
  PublicPolicyException,
  PutResourcePolicyCommand,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { eventually, isExternalTarget } from "../secrets-manager-target";
import { createWithValue, rejection, sm, target } from "./helpers";

/** keyshift's read policy shape: Deny GetSecretValue to every principal whose ARN is not listed. */
export const denyAllBut = (...patterns: string[]): string =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "KeyshiftRegisteredReadersOnly",
        Effect: "Deny",
        Principal: "*",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: "*",
        Condition: { ArnNotLike: { "aws:PrincipalArn": patterns } },
      },
    ],
  });

/** A role no test runs as: the caller is never one of the readers. */
const NOBODY = "arn:aws:iam::*:role/keyshift-contract-no-such-reader";

const putPolicy = (name: string, policy: string, block = true) =>
  sm().send(
    new PutResourcePolicyCommand({ SecretId: name, ResourcePolicy: policy, BlockPublicPolicy: block }),
  );

export function policyContract(): void {
  describe("GetResourcePolicy / PutResourcePolicy / DeleteResourcePolicy", () => {
    it("answers ARN and Name, and ResourcePolicy only while the secret has one", async () => {
      const { name } = await createWithValue("policy-lifecycle");
      const before = await sm().send(new GetResourcePolicyCommand({ SecretId: name }));

      const put = await putPolicy(name, denyAllBut(NOBODY));
      const during = await sm().send(new GetResourcePolicyCommand({ SecretId: name }));
      const deleted = await sm().send(new DeleteResourcePolicyCommand({ SecretId: name }));
      const after = await sm().send(new GetResourcePolicyCommand({ SecretId: name }));

      expect(before.Name).toBe(name);
      expect(before.ResourcePolicy).toBeUndefined();
      expect(put).toMatchObject({ ARN: before.ARN, Name: name });
      // AWS may reformat the document: compare what it says, not its bytes.
      expect(JSON.parse(during.ResourcePolicy ?? "{}")).toEqual(JSON.parse(denyAllBut(NOBODY)));
      expect(deleted).toMatchObject({ ARN: before.ARN, Name: name });
      expect(after.ResourcePolicy).toBeUndefined();
    });

    it("refuses a policy that allows every principal when BlockPublicPolicy is set", async () => {
      const { name } = await createWithValue("policy-public");
      const everyone = JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: "*", Action: "secretsmanager:GetSecretValue", Resource: "*" },
        ],
      });

      await rejection(putPolicy(name, everyone, true), PublicPolicyException, "PublicPolicyException");
      const after = await sm().send(new GetResourcePolicyCommand({ SecretId: name }));
      expect(after.ResourcePolicy).toBeUndefined();
    });

    it("refuses a document that is not a policy", async () => {
      const { name } = await createWithValue("policy-malformed");

      await rejection(
        putPolicy(name, "{not json"),
        MalformedPolicyDocumentException,
        "MalformedPolicyDocumentException",
      );
    });

    it("answers ResourceNotFoundException for a secret that does not exist", async () => {
      const name = target().name("policy-missing");

      await rejection(
        sm().send(new GetResourcePolicyCommand({ SecretId: name })),
        ResourceNotFoundException,
        "ResourceNotFoundException",
      );
      await rejection(
        putPolicy(name, denyAllBut(NOBODY)),
        ResourceNotFoundException,
        "ResourceNotFoundException",
      );
    });
  });

  describe("an explicit Deny in the resource policy", () => {
    it("refuses GetSecretValue to a principal it does not except, with AWS's AccessDeniedException", async () => {
      const { name } = await createWithValue("policy-deny", "guarded-value");
      await putPolicy(name, denyAllBut(NOBODY));

      const error = await eventually(() =>
        rejection(
          sm().send(new GetSecretValueCommand({ SecretId: name })),
          SecretsManagerServiceException,
          "AccessDeniedException",
        ),
      );

      const expected = `is not authorized to perform: secretsmanager:GetSecretValue on resource: ${name} with an explicit deny in a resource-based policy`;
      const caller = target().callerArn;
      if (caller) expect(error.message).toBe(`User: ${caller} ${expected}`);
      else expect(error.message).toMatch(/^User: arn:aws[a-z-]*:(sts|iam)::\d{12}:\S+ /);
      expect(error.message.endsWith(expected)).toBe(true);
      expect(error.message).not.toContain("guarded-value");
      // Only the actions the policy names are refused.
      await expect(sm().send(new DescribeSecretCommand({ SecretId: name }))).resolves.toMatchObject({
        Name: name,
      });
    });

    it("puts it on the wire as HTTP 400 with __type AccessDeniedException", async () => {
      const { name } = await createWithValue("policy-wire");
      await putPolicy(name, denyAllBut(NOBODY));

      const response = await eventually(async () => {
        const r = await target().rawCall("secretsmanager.GetSecretValue", JSON.stringify({ SecretId: name }));
        expect(String(r.body.__type).split("#").pop()).toBe("AccessDeniedException");
        return r;
      });

      expect(response.status).toBe(400);
      expect(response.requestId).toBeTruthy();
      expect(String(response.body.message ?? response.body.Message)).toContain("with an explicit deny");
    });

    it("lets through a principal whose ARN matches an exception, and everyone once the policy is gone", async () => {
      const { name } = await createWithValue("policy-except", "readable-value");
      await putPolicy(name, denyAllBut(NOBODY));
      await eventually(() =>
        rejection(
          sm().send(new GetSecretValueCommand({ SecretId: name })),
          SecretsManagerServiceException,
          "AccessDeniedException",
        ),
      );

      // ARN matching is per `:`-separated part: this pattern matches every principal's ARN.
      await putPolicy(name, denyAllBut(NOBODY, "arn:*:iam::*:*"));
      const excepted = await eventually(() => sm().send(new GetSecretValueCommand({ SecretId: name })));
      await putPolicy(name, denyAllBut(NOBODY));
      await sm().send(new DeleteResourcePolicyCommand({ SecretId: name }));
      const open = await eventually(() => sm().send(new GetSecretValueCommand({ SecretId: name })));

      expect(excepted.SecretString).toBe("readable-value");
      expect(open.SecretString).toBe("readable-value");
    });
  });

  // Emulator only: AWS accepts this document. The deviation by design (auth.suite.ts lists them all).
  describe.skipIf(isExternalTarget())("emulator: a policy it cannot enforce", () => {
    it("refuses, rather than ignores, a policy it cannot enforce", async () => {
      const { name } = await createWithValue("policy-unenforceable");
      const allowNamed = JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::123456789012:role/x" },
            Action: "secretsmanager:GetSecretValue",
            Resource: "*",
          },
        ],
      });

      const error = await rejection(
        putPolicy(name, allowNamed),
        MalformedPolicyDocumentException,
        "MalformedPolicyDocumentException",
      );
      expect(error.message).toContain("cannot enforce an Allow statement");
    });
  });
}
