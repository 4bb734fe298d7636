/**
 * Contract (emulator only): every call is authenticated and authorized as AWS does it — the
 * emulator starts its own instance here, with principals it knows, because AWS cannot be asked to
 * forget a caller. What AWS answers, and where that was checked, is in
 * harness/local/secrets-manager/errors.ts (`authenticationFailed`, `notAllowed`).
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
import { Sha256 } from "@aws-crypto/sha256-js";
import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalCredentials, LocalIam } from "../../../harness/local/local-iam";
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from "../../../harness/local/secrets-manager/server";
import { isExternalTarget, localPrincipals } from "../secrets-manager-target";
import { denyAllBut } from "./policy.suite";

const REGION = "us-east-1";
const READER_ROLE = "arn:aws:iam::123456789012:role/apps/reader";
const READER = "arn:aws:sts::123456789012:assumed-role/reader/r-1";

let emulator: SecretsManagerEmulator;
let iam: LocalIam;
let operatorCredentials: LocalCredentials;
let readerCredentials: LocalCredentials;
const clients: SecretsManagerClient[] = [];

function client(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  region = REGION,
) {
  // No retries: a refused call must come back as refused, not be retried into a timeout.
  const c = new SecretsManagerClient({ endpoint: emulator.endpoint, region, credentials, maxAttempts: 1 });
  clients.push(c);
  return c;
}

/** The error `call` fails with, or undefined if it succeeded. */
const failure = (call: Promise<unknown>): Promise<SecretsManagerServiceException | undefined> =>
  call.then(
    () => undefined,
    (error: SecretsManagerServiceException) => error,
  );

/** A raw JSON 1.1 call with the given headers (or a SigV4 signature made here, dated `signedAt`). */
async function raw(
  target: string,
  body: unknown,
  auth: { headers: Record<string, string> } | { sign: LocalCredentials; signedAt: Date },
): Promise<{ status: number; type: string; message: string }> {
  const url = new URL(emulator.endpoint);
  const text = JSON.stringify(body);
  let headers: Record<string, string> = {
    host: url.host,
    "content-type": "application/x-amz-json-1.1",
    "x-amz-target": `secretsmanager.${target}`,
  };
  if ("headers" in auth) headers = { ...headers, ...auth.headers };
  else {
    const signer = new SignatureV4({
      credentials: auth.sign,
      region: REGION,
      service: "secretsmanager",
      sha256: Sha256,
    });
    const signed = await signer.sign(
      {
        method: "POST",
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: "/",
        headers,
        body: text,
      },
      { signingDate: auth.signedAt },
    );
    headers = signed.headers as Record<string, string>;
  }
  const response = await fetch(new URL("/", emulator.endpoint), { method: "POST", headers, body: text });
  const out = (await response.json()) as { __type?: string; message?: string };
  return { status: response.status, type: String(out.__type), message: String(out.message) };
}

async function versionCount(secretId: string): Promise<number> {
  const out = await client(operatorCredentials).send(
    new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }),
  );
  return out.Versions?.length ?? 0;
}

export function authContract(): void {
  describe.skipIf(isExternalTarget())("emulator: every call is authenticated", () => {
    beforeAll(async () => {
      const principals = localPrincipals();
      iam = principals.iam;
      operatorCredentials = principals.operator;
      readerCredentials = iam.assumeRole(READER_ROLE, "r-1");
      emulator = await startSecretsManagerEmulator({ callers: iam, region: REGION });
      const operator = client(operatorCredentials);
      await operator.send(new CreateSecretCommand({ Name: "open", SecretString: "open-value" }));
      await operator.send(new CreateSecretCommand({ Name: "guarded", SecretString: "guarded-value" }));
      await operator.send(
        new PutResourcePolicyCommand({
          SecretId: "guarded",
          ResourcePolicy: denyAllBut("arn:aws:iam::123456789012:role/contract/*"),
          BlockPublicPolicy: true,
        }),
      );
    });

    afterAll(async () => {
      for (const c of clients.splice(0)) c.destroy();
      await emulator?.close();
    });

    it("refuses no signature, or a header that is not a whole SigV4 one, on a secret without a policy", async () => {
      const before = await versionCount("open");

      const unsigned = await raw("GetSecretValue", { SecretId: "open" }, { headers: {} });
      const basic = await raw(
        "PutSecretValue",
        { SecretId: "open", SecretString: "x" },
        {
          headers: { authorization: "Basic dXNlcjpwYXNz" },
        },
      );
      const partial = await raw(
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
      expect(await versionCount("open")).toBe(before);
    });

    it("refuses an unknown key, a wrong secret key, a wrong session token or another region, with AWS's names", async () => {
      const before = await versionCount("open");
      const unknown = client({ accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "whatever" });
      const forged = client({ ...readerCredentials, secretAccessKey: "not-the-key" });
      const wrongToken = client({ ...readerCredentials, sessionToken: "not-the-token" });
      const elsewhere = client(readerCredentials, "eu-west-1");

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
      expect(await versionCount("open")).toBe(before);
      expect(
        (await client(operatorCredentials).send(new GetResourcePolicyCommand({ SecretId: "guarded" })))
          .ResourcePolicy,
      ).toBeDefined();
    });

    it("accepts a signature up to 5 minutes old, as Secrets Manager does, and refuses an older one", async () => {
      const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

      const recent = await raw(
        "GetSecretValue",
        { SecretId: "open" },
        {
          sign: readerCredentials,
          signedAt: minutesAgo(4),
        },
      );
      const stale = await raw(
        "GetSecretValue",
        { SecretId: "open" },
        {
          sign: readerCredentials,
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
      const reader = client(readerCredentials);
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
      iam.grant(READER_ROLE, ["secretsmanager:GetSecretValue", "secretsmanager:DeleteResourcePolicy"]);
      const reader = client(readerCredentials);
      try {
        await reader.send(new DeleteResourcePolicyCommand({ SecretId: "guarded" }));
        const read = await reader.send(new GetSecretValueCommand({ SecretId: "guarded" }));

        expect(read.SecretString).toBe("guarded-value");
      } finally {
        iam.grant(READER_ROLE, ["secretsmanager:GetSecretValue"]);
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
              emulator.endpoint,
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

        const { stdout } = await aws(readerCredentials);
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
