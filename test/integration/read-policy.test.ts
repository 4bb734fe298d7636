/**
 * Read policy = the registry, on the local stack over real protocols: the Secrets Manager emulator
 * enforces the policy keyshift writes by the caller's SigV4 credentials, and hands every read to the
 * real secret-read handler as CloudTrail's event, which audits it and alerts on unregistered readers.
 *
 * Done means: a principal that is not a registered consumer gets AccessDeniedException and an alert
 * names it; registering it lets it read; removing it takes that away.
 */
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { DeleteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalCredentials } from "../../harness/local/local-iam";
import {
  CONSUMER_ACCOUNT,
  defaultConsumers,
  type Enrolled,
  enrollLocalSecret,
  registerConsumers,
} from "../../harness/local/scenario";
import { allSecretValues, scanForSecrets } from "../../harness/local/secret-scan";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { registerConsumer } from "../../src/core/operator/operator";
import { readPolicyDrift, syncReadPolicy } from "../../src/core/read-policy/sync";

const NOTEBOOK_ROLE = `arn:aws:iam::${CONSUMER_ACCOUNT}:role/analytics/notebook`;
const NOTEBOOK = `arn:aws:iam::${CONSUMER_ACCOUNT}:role/notebook`;

let stack: LocalStack;
let enrolled: Enrolled;
const clients: SecretsManagerClient[] = [];

beforeAll(async () => {
  stack = await startLocalStack({ seed: 21 });
  enrolled = await enrollLocalSecret(stack, { account: "rp-main" });
  await registerConsumers(enrolled, defaultConsumers(enrolled.secretId, 1));
  // Reads in the second of the enrollment are not judged (CloudTrail's times are whole seconds and
  // the enrollment's own read comes then): the reads below come after it.
  const next = Math.floor(Date.parse(enrolled.settings.enrolledAt) / 1000) * 1000 + 1000;
  await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now() + 10)));
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await stack?.close();
});

/** A Secrets Manager client signing as a session of `roleArn`, as that workload's SDK would. */
function clientAs(
  roleArn: string,
  session: string,
): { sm: SecretsManagerClient; credentials: LocalCredentials } {
  const credentials = stack.iam.assumeRole(roleArn, session);
  const sm = new SecretsManagerClient({
    region: stack.region,
    endpoint: stack.endpoints.secretsManager,
    credentials,
  });
  clients.push(sm);
  return { sm, credentials };
}

const read = (sm: SecretsManagerClient) =>
  sm.send(new GetSecretValueCommand({ SecretId: enrolled.secretId }));
const refusal = (sm: SecretsManagerClient) =>
  read(sm).then(
    () => undefined,
    (err: SecretsManagerServiceException) => err,
  );
const readerAlerts = () =>
  stack.sns
    .messages()
    .map((m) => JSON.parse(m.message) as { kind: string; subject: string; details: Record<string, unknown> })
    .filter((a) => a.kind === "unregistered-reader");
const auditOf = async (action: string) =>
  (await enrolled.deps.audit.list(enrolled.secretId)).filter((e) => e.action === action);

describe("an enrolled secret is readable by its registered consumers and keyshift only", () => {
  it("a registered consumer reads it as itself; its read is audited, with no alert", async () => {
    const { sm } = clientAs(`arn:aws:iam::${CONSUMER_ACCOUNT}:role/trading/trading-engine`, "engine-1");

    const out = await read(sm);
    await stack.secretReads(); // CloudTrail's event reaches the handler after the read returns

    expect(out.VersionId).toBeTruthy();
    const reads = await auditOf("secret-read");
    expect(reads.at(-1)).toMatchObject({
      actor: `arn:aws:sts::${CONSUMER_ACCOUNT}:assumed-role/trading-engine/engine-1`,
      details: { reader: "consumer", consumerId: "trading-engine" },
    });
    expect(readerAlerts()).toEqual([]);
  });

  it("refuses an unregistered principal with AccessDeniedException, audits it and alerts once, naming it", async () => {
    const { sm } = clientAs(NOTEBOOK_ROLE, "n-1");

    const first = await refusal(sm);
    const second = await refusal(sm);
    await stack.secretReads();

    expect(first?.name).toBe("AccessDeniedException");
    expect(first?.$metadata.httpStatusCode).toBe(400);
    expect(first?.message).toBe(
      `User: arn:aws:sts::${CONSUMER_ACCOUNT}:assumed-role/notebook/n-1 is not authorized to perform: ` +
        `secretsmanager:GetSecretValue on resource: ${enrolled.secretId} with an explicit deny in a resource-based policy`,
    );
    expect(second?.name).toBe("AccessDeniedException");
    const alerts = readerAlerts();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      subject: expect.stringContaining(NOTEBOOK),
      details: { principalArn: NOTEBOOK, denied: true },
    });
    expect((await auditOf("secret-read-denied")).map((e) => [e.actor, e.details?.principalArn])).toEqual([
      [`arn:aws:sts::${CONSUMER_ACCOUNT}:assumed-role/notebook/n-1`, NOTEBOOK],
      [`arn:aws:sts::${CONSUMER_ACCOUNT}:assumed-role/notebook/n-1`, NOTEBOOK],
    ]);
  });

  it("registering it lets it read; removing it from the registry and syncing takes that away", async () => {
    const { sm } = clientAs(NOTEBOOK_ROLE, "n-2");
    await registerConsumer(
      {
        secretId: enrolled.secretId,
        consumerId: "notebook",
        principalArn: NOTEBOOK_ROLE,
        cacheTtlSeconds: 60,
        heartbeatIntervalSeconds: 30,
        required: false,
      },
      "operator:test",
      enrolled.deps,
    );

    const registered = await read(sm);

    // The CLI's `consumers remove` arrives with another branch: its two effects, done here directly.
    const db = documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb });
    await db.send(
      new DeleteCommand({
        TableName: stack.tables.consumers,
        Key: { secretId: enrolled.secretId, sk: "CONSUMER#notebook" },
      }),
    );
    db.destroy();
    await syncReadPolicy(enrolled.deps, enrolled.secretId, "operator:test");
    const removed = await refusal(sm);
    await stack.secretReads();

    expect(registered.VersionId).toBeTruthy();
    expect(removed?.name).toBe("AccessDeniedException");
    expect(await readPolicyDrift(enrolled.deps, enrolled.secretId)).toEqual([]);
    // Same principal, same day: the dedupe keeps the alert to the first one.
    expect(readerAlerts()).toHaveLength(1);
  });

  it("keeps keyshift's own role a reader, and every read of the secret went through the handler", async () => {
    const keyshift = new SecretsManagerClient({
      region: stack.region,
      endpoint: stack.endpoints.secretsManager,
    });
    clients.push(keyshift);

    await expect(read(keyshift)).resolves.toMatchObject({ Name: enrolled.secretId });
    const deliveries = await stack.secretReads();
    expect(deliveries.every((d) => d.error === undefined)).toBe(true);
    expect(deliveries.filter((d) => d.denied)).toHaveLength(3);
    expect((await auditOf("secret-read")).at(-1)?.details?.reader).toBe("keyshift");
  });

  it("leaves no secret value in an alert, an audit entry or a handler outcome", async () => {
    const secrets = await allSecretValues(stack.endpoints.secretsManager, stack.region);
    const haystacks = [
      ...stack.sns.messages().map((m, i) => ({ where: `alert ${i + 1}`, text: JSON.stringify(m) })),
      ...(await enrolled.deps.audit.list(enrolled.secretId)).map((a) => ({
        where: `audit ${a.seq}`,
        text: JSON.stringify(a),
      })),
      ...(await stack.secretReads()).map((d, i) => ({ where: `delivery ${i + 1}`, text: JSON.stringify(d) })),
    ];

    expect(scanForSecrets(haystacks, secrets)).toEqual([]);
  });
});
