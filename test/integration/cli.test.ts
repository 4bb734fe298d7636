import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DescribeExecutionCommand, SFNClient } from "@aws-sdk/client-sfn";
import { DeleteCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionLocalSecret } from "../../harness/local/scenario";
import { captureLambdaLogs } from "../../harness/local/secret-scan";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { DynamoAuditLog } from "../../src/adapters/dynamodb/audit-log";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { keyshiftProcess } from "./support/keyshift-process";

const SECRET = "keyshift/exchange/acme-main/trading";

let stack: LocalStack;
let logs: ReturnType<typeof captureLambdaLogs>;
beforeAll(async () => {
  logs = captureLambdaLogs();
  stack = await startLocalStack();
  await provisionLocalSecret(stack, { account: "acme-main", secretId: SECRET });
});
afterAll(async () => {
  logs.restore();
  await stack.close();
});

const keyshift = (...args: string[]) => keyshiftProcess(stack, args);

describe("keyshift CLI against the local stack", () => {
  it("enrolls from rotation.config.yml, registers a consumer with the entry's defaults, and reports status", async () => {
    const enrolled = await keyshift("enroll", SECRET, "--json");
    expect(enrolled.code).toBe(0);
    // Its rotation schedule exists at once, on EventBridge Scheduler (the local emulator).
    const scheduled = await keyshift("apply", "--dry-run", "--json");
    expect(JSON.parse(scheduled.stdout).changed).not.toContainEqual(
      expect.objectContaining({ secretId: SECRET }),
    );
    expect(JSON.parse(enrolled.stdout)).toMatchObject({
      secretId: SECRET,
      exchangeAccount: "acme-main",
      minOverlapSeconds: 900,
    });

    const registered = await keyshift(
      "register-consumer",
      SECRET,
      "--consumer",
      "trading-engine",
      "--principal",
      "arn:aws:iam::111122223333:role/trading/trading-engine",
      "--json",
    );
    expect(registered.code).toBe(0);
    expect(JSON.parse(registered.stdout)).toMatchObject({
      consumerId: "trading-engine",
      principalArn: "arn:aws:iam::111122223333:role/trading-engine",
      cacheTtlSeconds: 300,
      heartbeatIntervalSeconds: 60,
      required: true,
    });

    const status = await keyshift("status", SECRET, "--json");
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout);
    expect(parsed.consumers).toBe(1);
    expect(parsed.readiness.lagging).toEqual([
      expect.objectContaining({ consumerId: "trading-engine", reason: "no-live-instance" }),
    ]);
    expect(parsed.lock).toBeUndefined();

    const audit = await keyshift("audit", "verify", SECRET, "--json");
    expect(audit.code).toBe(0);
    // enrolled, the read policy synced, the schedule created; consumer registered, the policy synced
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, entries: 5 });
  });

  it("names the problem and exits 64 on bad usage, changing nothing", async () => {
    const badTtl = await keyshift(
      "register-consumer",
      SECRET,
      "--consumer",
      "x",
      "--principal",
      "arn:aws:iam::111122223333:role/x",
      "--cache-ttl",
      "soon",
    );
    expect(badTtl.code).toBe(64);
    expect(badTtl.stderr).toContain(
      '--cache-ttl must be a whole number of seconds from 0 to 604800 (digits only), got "soon"',
    );

    const unknownSecret = await keyshift("enroll", "keyshift/exchange/nope/none");
    expect(unknownSecret.code).toBe(64);
    expect(unknownSecret.stderr).toContain("is not in rotation.config.yml");

    const unknownCommand = await keyshift("explode");
    expect(unknownCommand.code).toBe(64);

    const status = JSON.parse((await keyshift("status", SECRET, "--json")).stdout);
    expect(status.consumers).toBe(1);
  });

  it("refuses force-revoke and rollback when no rotation holds the lock", async () => {
    const result = await keyshift("force-revoke", SECRET, "--reason", "test");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("OperatorActionRejectedError");
    expect(result.stderr).toMatch(/nothing to (force-revoke|rollback)/);
  });

  it("rotate --wait starts an execution through the Step Functions API and reports how it ended", async () => {
    const fast = "keyshift/exchange/acme-fast/trading";
    const config = "test/fixtures/enrollment/local-fast.yml";
    await provisionLocalSecret(stack, { account: "acme-fast", secretId: fast });
    expect((await keyshift("enroll", fast, "--config", config)).code).toBe(0);
    const firstKey = stack.exchange.keys("acme-fast")[0]?.keyId;

    const rotated = await keyshift("rotate", fast, "--wait", "--json");

    expect(rotated.code).toBe(0);
    const result = JSON.parse(rotated.stdout);
    expect(result).toMatchObject({ status: "SUCCEEDED", output: { result: { outcome: "revoked" } } });
    expect(result.executionArn).toContain(":execution:keyshift-local-rotation:");
    const keys = stack.exchange.keys("acme-fast");
    expect(keys.find((k) => k.keyId === firstKey)?.status).toBe("removed");
    expect(keys.filter((k) => k.status === "active")).toHaveLength(1);

    const resumed = await keyshift("resume", fast, "--wait", "--json");
    expect(resumed.code).toBe(1);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ status: "FAILED", error: "InvalidInputError" });
  });
});

describe("who the audit names: the caller's AWS principal, never a typed name", () => {
  const auditLog = () =>
    new DynamoAuditLog(
      documentClient({
        endpoint: stack.endpoints.dynamodb,
        region: stack.region,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      }),
      stack.tables.audit,
      { now: () => new Date() },
    );

  it("audits a command under the credentials' principal; a forged KEYSHIFT_ACTOR changes nothing", async () => {
    const aliceRole = "arn:aws:iam::000000000000:role/operators/alice";
    stack.iam.grant(aliceRole, ["secretsmanager:*"]);
    const alice = stack.iam.assumeRole(aliceRole, "alice-laptop");
    // The read policy's guard lets only keyshift's writers rewrite it: a writer (keyshift's role)
    // first re-applies the policy with alice among them, as an operator's role is added on AWS.
    const writers = { KEYSHIFT_POLICY_WRITER_ROLE_ARNS: aliceRole };
    const reenrolled = await keyshiftProcess(stack, ["enroll", SECRET, "--json"], {
      ...process.env,
      ...stack.env,
      ...writers,
    });
    expect(reenrolled.code, reenrolled.stderr).toBe(0);
    const before = (await auditLog().list(SECRET)).length;

    const run = await keyshiftProcess(
      stack,
      ["consumers", "remove", SECRET, "trading-engine", "--reason", "who-test", "--json"],
      {
        ...process.env,
        ...stack.env,
        AWS_ACCESS_KEY_ID: alice.accessKeyId,
        AWS_SECRET_ACCESS_KEY: alice.secretAccessKey,
        AWS_SESSION_TOKEN: alice.sessionToken,
        KEYSHIFT_ACTOR: "mallory",
        USER: "mallory",
        ...writers,
      },
    );

    expect(run.code, run.stderr).toBe(0);
    const added = (await auditLog().list(SECRET)).slice(before);
    expect(added.length).toBeGreaterThan(0);
    for (const entry of added) {
      expect(entry.actor).toBe("operator:arn:aws:sts::000000000000:assumed-role/alice/alice-laptop");
    }
    expect(JSON.stringify(added)).not.toContain("mallory");
  });

  it("refuses to run (78) when STS cannot say who is calling, naming what to fix", async () => {
    const run = await keyshiftProcess(stack, ["status", SECRET], {
      ...process.env,
      ...stack.env,
      AWS_ACCESS_KEY_ID: "ASIANOBODYKNOWSTHIS1",
      AWS_SECRET_ACCESS_KEY: "not-a-real-secret-key-value-0000000000",
      AWS_SESSION_TOKEN: "not-a-token",
    });

    expect(run.code).toBe(78);
    expect(run.stderr).toContain("cannot tell who is running keyshift: STS GetCallerIdentity failed");
    expect(run.stderr).toContain("InvalidClientTokenId");
    expect(run.stderr).not.toContain("not-a-real-secret-key-value");
  });
});

describe("the provisioning record: who, what for, which ticket", () => {
  async function receiver(status: number) {
    const got: Array<{ headers: Record<string, unknown>; body: string }> = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        got.push({ headers: req.headers, body });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/tickets`;
    return { got, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }
  const fast = "keyshift/exchange/acme-fast/trading";
  const config = "test/fixtures/enrollment/local-fast.yml";

  it("enroll posts the record to the webhook — requester from STS, purpose, ticket, scope, no key value", async () => {
    await provisionLocalSecret(stack, {
      account: "acme-prov",
      secretId: "keyshift/exchange/acme-prov/trading",
    });
    const hook = await receiver(201);
    try {
      const run = await keyshiftProcess(
        stack,
        [
          "enroll",
          fast,
          "--config",
          config,
          "--purpose",
          "market making on acme",
          "--ticket",
          "OPS-42",
          "--json",
        ],
        { ...process.env, ...stack.env, KEYSHIFT_PROVISIONING_WEBHOOK_URL: hook.url },
      );

      expect(run.code).toBe(0);
      expect(hook.got).toHaveLength(1);
      const record = JSON.parse(hook.got[0]?.body ?? "{}");
      expect(record).toMatchObject({
        kind: "keyshift.provisioning.v1",
        secretId: fast,
        exchangeAccount: "acme-fast",
        requestedBy: expect.stringMatching(/^operator:arn:aws:sts::\d{12}:assumed-role\//),
        purpose: "market making on acme",
        ticket: "OPS-42",
        approvedBy: null,
        approval: "single-operator",
      });
      expect(record.scope.length).toBeGreaterThan(0);
      expect(hook.got[0]?.headers["idempotency-key"]).toBe(record.idempotencyKey);
      const sm = new SecretsManagerClient({ region: stack.region, endpoint: stack.endpoints.secretsManager });
      const value = JSON.parse(
        (await sm.send(new GetSecretValueCommand({ SecretId: fast }))).SecretString ?? "{}",
      );
      sm.destroy();
      expect(hook.got[0]?.body).not.toContain(value.secret);
    } finally {
      await hook.close();
    }
  });

  it("a webhook that refuses leaves the enrollment done, says so (exit 1) and audits the failure", async () => {
    const hook = await receiver(500);
    try {
      const run = await keyshiftProcess(
        stack,
        ["enroll", fast, "--config", config, "--purpose", "retry test"],
        {
          ...process.env,
          ...stack.env,
          KEYSHIFT_PROVISIONING_WEBHOOK_URL: hook.url,
        },
      );

      expect(run.code).toBe(1);
      expect(run.stdout + run.stderr).toContain("the provisioning record was NOT sent");
      expect(run.stdout + run.stderr).toContain("HTTP 500");
      const trail = await new DynamoAuditLog(
        documentClient({
          endpoint: stack.endpoints.dynamodb,
          region: stack.region,
          credentials: { accessKeyId: "local", secretAccessKey: "local" },
        }),
        stack.tables.audit,
        { now: () => new Date() },
      ).list(fast);
      expect(trail.map((e) => e.action)).toContain("provisioning-record-failed");
    } finally {
      await hook.close();
    }
  });
});

describe("keyshift exposure: what a departing principal read", () => {
  it("lists every enrolled secret a role read, from the read audit, as still exposed until rotated", async () => {
    const role = "arn:aws:iam::111122223333:role/departing/bob-svc";
    expect(
      (await keyshift("register-consumer", SECRET, "--consumer", "bob-svc", "--principal", role)).code,
    ).toBe(0);
    const bob = stack.iam.assumeRole(role, "bob-1");
    const sm = new SecretsManagerClient({
      region: stack.region,
      endpoint: stack.endpoints.secretsManager,
      credentials: bob,
    });
    await sm.send(new GetSecretValueCommand({ SecretId: SECRET }));
    sm.destroy();
    await stack.secretReads();

    const run = await keyshift("exposure", role, "--json");

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ principal: "arn:aws:iam::111122223333:role/bob-svc", stillExposed: 1 });
    expect(report.secrets).toEqual([
      expect.objectContaining({
        secretId: SECRET,
        rotatedSince: false,
        next: expect.stringContaining("--compromised"),
      }),
    ]);
    const nobody = JSON.parse(
      (await keyshift("exposure", "arn:aws:iam::111122223333:role/nobody", "--json")).stdout,
    );
    expect(nobody).toMatchObject({ secrets: [], stillExposed: 0 });

    // The bulk emergency needs a reason and the state machine, and says so before starting anything.
    const noReason = await keyshift("exposure", "rotate", role);
    expect(noReason.code).toBe(64);
    expect(noReason.stderr).toContain('exposure rotate needs --reason "..."');
    const noMachine = await keyshiftProcess(stack, ["exposure", "rotate", role, "--reason", "departed"], {
      ...process.env,
      ...stack.env,
      KEYSHIFT_STATE_MACHINE_ARN: "",
    });
    expect(noMachine.code).toBe(78);
    expect(noMachine.stderr).toContain("exposure rotate needs KEYSHIFT_STATE_MACHINE_ARN");
  });

  it("exposure rotate starts an emergency rotation of each still-exposed secret, which kills the key it read", async () => {
    const fast = "keyshift/exchange/acme-fast/trading";
    const config = "test/fixtures/enrollment/local-fast.yml";
    const role = "arn:aws:iam::111122223333:role/departing/carol-svc";
    const registered = await keyshift(
      "register-consumer",
      fast,
      "--config",
      config,
      "--consumer",
      "carol-svc",
      "--principal",
      role,
      "--required",
      "false",
    );
    expect(registered.code).toBe(0);
    const carol = stack.iam.assumeRole(role, "carol-1");
    const sm = new SecretsManagerClient({
      region: stack.region,
      endpoint: stack.endpoints.secretsManager,
      credentials: carol,
    });
    const read = JSON.parse(
      (await sm.send(new GetSecretValueCommand({ SecretId: fast }))).SecretString ?? "{}",
    );
    sm.destroy();
    await stack.secretReads();

    const run = await keyshift("exposure", "rotate", role, "--reason", "carol left", "--json");

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ exposed: [fast], failed: [] });
    const sfn = new SFNClient({ region: stack.region, endpoint: stack.endpoints.stepFunctions });
    let status = "RUNNING";
    for (let i = 0; i < 200 && status === "RUNNING"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status =
        (await sfn.send(new DescribeExecutionCommand({ executionArn: report.started[0].executionArn })))
          .status ?? "";
    }
    sfn.destroy();
    expect(status).toBe("SUCCEEDED");
    expect(stack.exchange.keys("acme-fast").find((k) => k.keyId === read.keyId)?.status).toBe("removed");
    const after = JSON.parse((await keyshift("exposure", role, "--json")).stdout);
    expect(after).toMatchObject({ stillExposed: 0 });
  });
});

describe("keyshift audit verify against the local stack", () => {
  /** Appends `n` entries to a fresh stream through the real adapter, and a raw client to tamper with. */
  async function trail(secretId: string, n: number) {
    const db = documentClient({
      endpoint: stack.endpoints.dynamodb,
      region: stack.region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const audit = new DynamoAuditLog(db, stack.tables.audit, { now: () => new Date() });
    for (let i = 1; i <= n; i++) {
      await audit.append({ secretId, actor: "operator:alice", action: `step-${i}`, details: { i } });
    }
    const remove = (seq: number) =>
      db.send(new DeleteCommand({ TableName: stack.tables.audit, Key: { stream: secretId, seq } }));
    return { db, remove };
  }

  it("break 12: fails a trail whose last entries were deleted, and one whose entries were all deleted", async () => {
    const lastGone = "keyshift/exchange/audit-a/trading";
    const allGone = "keyshift/exchange/audit-b/trading";
    const a = await trail(lastGone, 4);
    const b = await trail(allGone, 3);
    expect((await keyshift("audit", "verify", lastGone)).code).toBe(0);

    await a.remove(4);
    const oneShort = await keyshift("audit", "verify", lastGone, "--json");
    await a.remove(3);
    const twoShort = await keyshift("audit", "verify", lastGone);
    for (const seq of [1, 2, 3]) await b.remove(seq);
    const empty = await keyshift("audit", "verify", allGone, "--json");
    a.db.destroy();
    b.db.destroy();

    expect(oneShort.code).toBe(3);
    expect(JSON.parse(oneShort.stdout)).toMatchObject({ ok: false, brokenAt: { seq: 4 } });
    expect(twoShort.code).toBe(3);
    expect(twoShort.stdout).toContain("BROKEN at seq 3");
    expect(empty.code).toBe(3);
    expect(JSON.parse(empty.stdout)).toMatchObject({ ok: false, entries: 0, brokenAt: { seq: 1 } });
  });

  it("break 12: an unknown secret has no audit trail: an error, not an empty chain that verifies", async () => {
    const unknown = await keyshift("audit", "verify", "keyshift/exchange/nobody/none", "--json");

    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout)).toMatchObject({
      error: { code: 1, kind: "failed", message: expect.stringContaining("no audit trail for") },
    });
    expect(unknown.stderr).toContain("no audit trail for keyshift/exchange/nobody/none");
  });
});
