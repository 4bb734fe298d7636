/**
 * Contract (emulator only): every call is authenticated and authorized as AWS does it, on an
 * emulator of its own with principals it knows (auth-world.ts). What AWS answers, and where that
 * was checked: harness/local/secrets-manager/errors.ts (`authenticationFailed`, `notAllowed`).
 *
 * Deviations from AWS that remain by design (each one refuses rather than guesses, or is listed):
 * - Resource policies: only Deny statements to `"*"`, with no condition or `ArnNotLike` /
 *   `StringNotLike` on `aws:PrincipalArn` (what keyshift's read policy holds) are stored; every
 *   other document (an Allow, a named principal, NotAction, another condition) is refused with
 *   `MalformedPolicyDocumentException` saying so (policy.suite.ts), where AWS would accept it.
 * - Identity policies: a role's grant is a list of actions on every secret, set by the harness
 *   (`LocalIam.grant`; keyshift's local role and the contract's operator get `secretsmanager:*`,
 *   every other role `WORKLOAD_ACTIONS`: GetSecretValue). No resource, condition, permissions
 *   boundary, session policy or SCP.
 * - Accounts: a caller of another account needs only its grant. On AWS it also needs an Allow in
 *   the resource policy and a KMS key policy that lets it decrypt (keyshift writes only the Deny:
 *   docs/deploy.md, "What it does not protect"). There is no KMS.
 * - Signatures: the `Authorization` header only; query-string (presigned) SigV4 is answered as a
 *   missing token. A signature mismatch does not echo the canonical request AWS appends.
 * - CloudTrail: a call refused at authentication has no identity and produces no event here.
 */
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import {
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isExternalTarget } from "../secrets-manager-target";
import { AuthWorld, failure, READER, READER_ROLE, REGION } from "./auth-world";
import { denyAllBut } from "./policy.suite";

let world: AuthWorld;

export function authContract(): void {
  describe.skipIf(isExternalTarget())("emulator: every call is authenticated", () => {
    beforeAll(async () => {
      world = await AuthWorld.open();
    });

    afterAll(async () => {
      await world?.close();
    });

    it("refuses no signature, or a header that is not a whole SigV4 one, on a secret without a policy", async () => {
      const before = await world.versionCount("open");

      const unsigned = await world.raw("GetSecretValue", { SecretId: "open" }, { headers: {} });
      const basic = await world.raw(
        "PutSecretValue",
        { SecretId: "open", SecretString: "x" },
        {
          headers: { authorization: "Basic dXNlcjpwYXNz" },
        },
      );
      const partial = await world.raw(
        "PutSecretValue",
        { SecretId: "open", SecretString: "x" },
        {
          headers: {
            authorization:
              "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/secretsmanager/aws4_request",
            "x-amz-date": "20260101T000000Z",
          },
        },
      );

      expect(unsigned).toEqual({
        status: 400,
        type: "MissingAuthenticationTokenException",
        message: "Request is missing Authentication Token",
      });
      expect(basic).toMatchObject({ status: 400, type: "MissingAuthenticationTokenException" });
      expect(partial).toMatchObject({ status: 400, type: "IncompleteSignatureException" });
      expect(partial.message).toContain("Authorization header requires 'Signature' parameter.");
      expect(partial.message).toContain("Authorization header requires 'SignedHeaders' parameter.");
      expect(await world.versionCount("open")).toBe(before);
    });

    it("refuses an unknown key, a wrong secret key, a wrong session token or another region, with AWS's names", async () => {
      const before = await world.versionCount("open");
      const unknown = world.client({ accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "whatever" });
      const forged = world.client({ ...world.reader, secretAccessKey: "not-the-key" });
      const wrongToken = world.client({ ...world.reader, sessionToken: "not-the-token" });
      const elsewhere = world.client(world.reader, "eu-west-1");

      const refusals = await Promise.all([
        failure(unknown.send(new GetSecretValueCommand({ SecretId: "open" }))),
        failure(unknown.send(new PutSecretValueCommand({ SecretId: "open", SecretString: "x" }))),
        failure(unknown.send(new DeleteResourcePolicyCommand({ SecretId: "guarded" }))),
        failure(forged.send(new GetSecretValueCommand({ SecretId: "open" }))),
        failure(wrongToken.send(new GetSecretValueCommand({ SecretId: "open" }))),
        failure(elsewhere.send(new GetSecretValueCommand({ SecretId: "open" }))),
      ]);

      expect(refusals.map((e) => [e?.name, e?.$metadata.httpStatusCode])).toEqual([
        ["UnrecognizedClientException", 400],
        ["UnrecognizedClientException", 400],
        ["UnrecognizedClientException", 400],
        ["InvalidSignatureException", 400],
        ["UnrecognizedClientException", 400],
        ["InvalidSignatureException", 400],
      ]);
      expect(refusals[0]?.message).toBe("The security token included in the request is invalid.");
      expect(refusals[5]?.message).toBe("Credential should be scoped to a valid region, not 'eu-west-1'.");
      expect(await world.versionCount("open")).toBe(before);
      expect(
        (await world.client(world.operator).send(new GetResourcePolicyCommand({ SecretId: "guarded" })))
          .ResourcePolicy,
      ).toBeDefined();
    });

    it("accepts a signature up to 5 minutes old, as Secrets Manager does, and refuses an older one", async () => {
      const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

      const recent = await world.raw(
        "GetSecretValue",
        { SecretId: "open" },
        {
          sign: world.reader,
          signedAt: minutesAgo(4),
        },
      );
      const stale = await world.raw(
        "GetSecretValue",
        { SecretId: "open" },
        {
          sign: world.reader,
          signedAt: minutesAgo(6),
        },
      );

      expect(recent.status).toBe(200);
      expect(stale).toMatchObject({ status: 400, type: "InvalidSignatureException" });
      expect(stale.message).toMatch(
        /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(.* - 5 min\.\)$/,
      );
    });

    it("grants a reader only its role's identity policy: denied GetSecretValue, it can neither delete the policy nor write", async () => {
      const reader = world.client(world.reader);
      const noGrant = (action: string, resource?: string) =>
        `User: ${READER} is not authorized to perform: secretsmanager:${action}${resource ? ` on resource: ${resource}` : ""} because no identity-based policy allows the secretsmanager:${action} action`;

      const read = await failure(reader.send(new GetSecretValueCommand({ SecretId: "guarded" })));
      const deleted = await failure(reader.send(new DeleteResourcePolicyCommand({ SecretId: "guarded" })));
      const replaced = await failure(
        reader.send(
          new PutResourcePolicyCommand({
            SecretId: "guarded",
            ResourcePolicy: denyAllBut("arn:aws:iam::*:role/*"),
          }),
        ),
      );
      const policyRead = await failure(reader.send(new GetResourcePolicyCommand({ SecretId: "guarded" })));
      const written = await failure(
        reader.send(new PutSecretValueCommand({ SecretId: "open", SecretString: "x" })),
      );
      const listed = await failure(reader.send(new ListSecretsCommand({})));
      const readAgain = await failure(reader.send(new GetSecretValueCommand({ SecretId: "guarded" })));
      const open = await reader.send(new GetSecretValueCommand({ SecretId: "open" }));

      expect(read?.message).toBe(
        `User: ${READER} is not authorized to perform: secretsmanager:GetSecretValue on resource: guarded with an explicit deny in a resource-based policy`,
      );
      expect(
        [deleted, replaced, policyRead, written, listed].map((e) => [e?.name, e?.$metadata.httpStatusCode]),
      ).toEqual(Array(5).fill(["AccessDeniedException", 400]));
      expect(deleted?.message).toBe(noGrant("DeleteResourcePolicy", "guarded"));
      expect(written?.message).toBe(noGrant("PutSecretValue", "open"));
      expect(listed?.message).toBe(noGrant("ListSecrets"));
      expect(readAgain?.name).toBe("AccessDeniedException");
      expect(open.SecretString).toBe("open-value");
    });

    it("lets whoever is granted DeleteResourcePolicy delete it and then read, as on AWS", async () => {
      world.iam.grant(READER_ROLE, ["secretsmanager:GetSecretValue", "secretsmanager:DeleteResourcePolicy"]);
      const reader = world.client(world.reader);
      try {
        await reader.send(new DeleteResourcePolicyCommand({ SecretId: "guarded" }));
        const read = await reader.send(new GetSecretValueCommand({ SecretId: "guarded" }));

        expect(read.SecretString).toBe("guarded-value");
      } finally {
        world.iam.grant(READER_ROLE, ["secretsmanager:GetSecretValue"]);
      }
    });

    const hasAwsCli = spawnSync("aws", ["--version"]).status === 0;
    it.skipIf(!hasAwsCli)(
      "answers the AWS CLI, which signs without x-amz-content-sha256",
      { timeout: 60_000 },
      async () => {
        const aws = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
          promisify(execFile)(
            "aws",
            [
              "secretsmanager",
              "get-secret-value",
              "--secret-id",
              "open",
              "--endpoint-url",
              world.emulator.endpoint,
            ],
            {
              env: {
                PATH: process.env.PATH,
                HOME: process.env.HOME,
                AWS_REGION: REGION,
                AWS_DEFAULT_REGION: REGION,
                AWS_ACCESS_KEY_ID: credentials.accessKeyId,
                AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
                ...(credentials.sessionToken ? { AWS_SESSION_TOKEN: credentials.sessionToken } : {}),
                AWS_CONFIG_FILE: "/dev/null",
                AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
              },
            },
          );

        const { stdout } = await aws(world.reader);
        const refused = await aws({ accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "x" }).then(
          () => "",
          (error: { stderr: string }) => error.stderr,
        );

        expect(JSON.parse(stdout)).toMatchObject({ Name: "open", SecretString: "open-value" });
        expect(refused).toContain("UnrecognizedClientException");
      },
    );
  });
}
