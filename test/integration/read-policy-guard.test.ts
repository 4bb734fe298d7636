/**
 * The read policy protects itself, on the local stack: the Secrets Manager emulator enforces the
 * policy keyshift writes by each caller's SigV4 credentials. A platform admin whose identity policy
 * grants every Secrets Manager action cannot remove or replace the policy (and then read), nor plant
 * a value; keyshift's own role, let through the guard, still rotates the key end to end.
 */
import {
  DeleteResourcePolicyCommand,
  GetSecretValueCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerServiceException,
  UpdateSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_ACCOUNT } from "../../harness/local/definition";
import { type Enrolled, enrollLocalSecret } from "../../harness/local/scenario";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { runRotation } from "../../harness/local/workflow-runner";
import { readPolicyDrift } from "../../src/core/read-policy/sync";

const ADMIN = `arn:aws:iam::${LOCAL_ACCOUNT}:role/platform-admin`;

let stack: LocalStack;
let enrolled: Enrolled;
let admin: SecretsManagerClient;

beforeAll(async () => {
  stack = await startLocalStack({ seed: 7 });
  enrolled = await enrollLocalSecret(stack, { account: "guard-acct" });
  stack.iam.grant(ADMIN, ["secretsmanager:*"]);
  admin = new SecretsManagerClient({
    region: stack.region,
    endpoint: stack.endpoints.secretsManager,
    credentials: stack.iam.assumeRole(ADMIN, "admin"),
  });
}, 30_000);

afterAll(async () => {
  admin?.destroy();
  await stack?.close();
});

const refused = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: SecretsManagerServiceException) => e.name,
  );

describe("the read policy's guard", () => {
  it("refuses a principal allowed every action by IAM: no policy removal or replacement, no value, no read", async () => {
    const SecretId = enrolled.secretId;
    const open = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Principal: "*", Action: "secretsmanager:DescribeSecret", Resource: "*" }],
    });

    expect(await refused(admin.send(new DeleteResourcePolicyCommand({ SecretId })))).toBe(
      "AccessDeniedException",
    );
    expect(await refused(admin.send(new PutResourcePolicyCommand({ SecretId, ResourcePolicy: open })))).toBe(
      "AccessDeniedException",
    );
    expect(await refused(admin.send(new PutSecretValueCommand({ SecretId, SecretString: "{}" })))).toBe(
      "AccessDeniedException",
    );
    expect(await refused(admin.send(new UpdateSecretCommand({ SecretId, Description: "mine now" })))).toBe(
      "AccessDeniedException",
    );
    expect(await refused(admin.send(new GetSecretValueCommand({ SecretId })))).toBe("AccessDeniedException");
    expect(await readPolicyDrift(enrolled.deps, SecretId)).toEqual([]);
  });

  it("lets keyshift's own role through: a whole rotation writes the new value under the guard", async () => {
    const result = await runRotation({ secretId: enrolled.secretId, trigger: "manual" } as never, {
      waitMs: 150,
      retryMs: 20,
    });

    expect(result.status).toBe("SUCCEEDED");
    expect(await readPolicyDrift(enrolled.deps, enrolled.secretId)).toEqual([]);
  }, 60_000);
});
