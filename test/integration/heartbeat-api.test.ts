/**
 * POST /heartbeats over real HTTP: SigV4-signed (service `lambda`) with a consumer role's temporary
 * credentials, checked by the local front door the way Lambda checks an AWS_IAM function URL,
 * answered by the real handler against dynalite. What is asserted is what the brief promises:
 * identity from the principal only, 403 + an audit entry outside the secret's chain for an
 * unregistered principal, 4xx naming the problem for malformed input, and nothing written on any
 * rejection.
 */
import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { FORBIDDEN_MESSAGE } from "../../harness/local/http-api";
import { lambdaContext } from "../../harness/local/lambda-context";
import type { LocalCredentials } from "../../harness/local/local-iam";
import {
  CONSUMER_ACCOUNT,
  defaultConsumers,
  type Enrolled,
  enrollLocalSecret,
  registerConsumers,
} from "../../harness/local/scenario";
import { allSecretValues, scanForSecrets } from "../../harness/local/secret-scan";
import { signRequest } from "../../harness/local/sigv4";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { DynamoUsageStore } from "../../src/adapters/dynamodb/usage-store";
import { HEARTBEAT_REJECTIONS_STREAM, instanceAuditStream } from "../../src/core/audit/chain";
import { fingerprint } from "../../src/core/fingerprint";
import type { VersionFingerprints } from "../../src/core/model";

const roleArn = (name: string) => `arn:aws:iam::${CONSUMER_ACCOUNT}:role/trading/${name}`;
const randomFingerprint = () => `fp1_${randomBytes(8).toString("hex")}`;

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  json: Record<string, unknown>;
}

let stack: LocalStack;
let main: Enrolled;
let other: Enrolled;
/** The fingerprint of main's AWSCURRENT value, computed as a consumer does, from the value. */
let currentFp: string;
let engine: LocalCredentials;
/** Every response body, for the no-secret-value check at the end. */
const seen: Array<{ where: string; text: string }> = [];

beforeAll(async () => {
  stack = await startLocalStack({ seed: 11 });
  main = await enrollLocalSecret(stack, { account: "hb-main" });
  other = await enrollLocalSecret(stack, { account: "hb-other" });
  // trading-engine + market-data-gateway on main; risk-service only on the other secret.
  await registerConsumers(main, defaultConsumers(main.secretId, 2));
  await registerConsumers(other, defaultConsumers(other.secretId, 3).slice(2));
  const sm = new SecretsManagerClient({ region: stack.region, endpoint: stack.endpoints.secretsManager });
  const out = await sm.send(new GetSecretValueCommand({ SecretId: main.secretId }));
  sm.destroy();
  currentFp = fingerprint(out.SecretString ?? "");
  engine = stack.iam.assumeRole(roleArn("trading-engine"), "engine-1");
  // That read is audited once CloudTrail's event is delivered: let it land before the trail is counted.
  await stack.secretReads();
});

afterAll(async () => {
  await stack?.close();
});

async function send(
  body: string,
  opts: {
    credentials?: LocalCredentials;
    sign?: boolean;
    /** Changes the body (and possibly headers) after signing, as a man in the middle would. */
    tamper?: (body: string, headers: Record<string, string>) => string;
  } = {},
): Promise<Answer> {
  const url = new URL("/heartbeats", stack.endpoints.heartbeatApi);
  let headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.sign !== false) {
    headers = await signRequest(
      { method: "POST", url, headers, body },
      opts.credentials ?? engine,
      stack.region,
    );
  }
  const sent = opts.tamper ? opts.tamper(body, headers) : body;
  const res = await fetch(url, { method: "POST", headers, body: sent });
  const text = await res.text();
  seen.push({ where: `response ${res.status}`, text });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // asserted by the caller through `json` being empty
  }
  return { status: res.status, contentType: res.headers.get("content-type"), text, json };
}

const beat = (fields: Record<string, unknown>, opts?: Parameters<typeof send>[1]) =>
  send(JSON.stringify(fields), opts);

/** Everything a rejected request must leave untouched (rejections are audited in their own stream). */
async function footprint() {
  const [mainInstances, otherInstances, mainAudit, otherAudit] = await Promise.all([
    main.deps.consumers.listInstances(main.secretId),
    main.deps.consumers.listInstances(other.secretId),
    main.deps.audit.list(main.secretId),
    main.deps.audit.list(other.secretId),
  ]);
  return {
    instances: mainInstances.length + otherInstances.length,
    audit: mainAudit.length + otherAudit.length,
    alerts: stack.sns.messages().length,
  };
}

const rejections = () => main.deps.audit.list(HEARTBEAT_REJECTIONS_STREAM);
const changesOf = (secretId: string, consumerId: string, instanceId: string) =>
  main.deps.audit.list(instanceAuditStream(secretId, consumerId, instanceId));

const alertsOfKind = (kind: string) => stack.sns.messages().filter((m) => m.attributes.kind === kind);

describe("a registered consumer", () => {
  it("is told current for the current fingerprint, and the instance is recorded under its consumer", async () => {
    const res = await beat({ secretId: main.secretId, fingerprint: currentFp, instanceId: "engine-1" });

    expect(res.status).toBe(200);
    expect(res.contentType).toBe("application/json");
    expect(res.json).toEqual({
      status: "current",
      consumerId: "trading-engine",
      refreshNow: false,
      currentFingerprint: currentFp,
      nextHeartbeatSeconds: 1,
    });
    const instance = await main.deps.consumers.getInstance(main.secretId, "trading-engine", "engine-1");
    expect(instance).toMatchObject({ fingerprint: currentFp, consumerId: "trading-engine" });
  });

  it("is told stale with refreshNow once the recorded current moves to another version", async () => {
    const recorded = (await main.deps.store.getVersions(main.secretId)) as VersionFingerprints;
    const promoted = { versionId: "v-next", fingerprint: randomFingerprint(), exchangeKeyId: "k-next" };
    await main.deps.store.putVersions({
      ...recorded,
      previous: recorded.current,
      current: promoted,
      updatedAt: new Date().toISOString(),
    });
    try {
      // Each container keeps a secret's recorded state for up to 2 s: the answer follows within that.
      let res = await beat({ secretId: main.secretId, fingerprint: currentFp, instanceId: "engine-1" });
      for (let i = 0; i < 30 && res.json.status === "current"; i++) {
        await new Promise((r) => setTimeout(r, 100));
        res = await beat({ secretId: main.secretId, fingerprint: currentFp, instanceId: "engine-1" });
      }

      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({
        status: "stale",
        refreshNow: true,
        consumerId: "trading-engine",
        currentFingerprint: promoted.fingerprint,
        nextHeartbeatSeconds: 0,
      });
    } finally {
      await main.deps.store.putVersions(recorded);
    }
  });

  it("is told unknown for a fingerprint of no recorded version: audited and alerted", async () => {
    const rogue = randomFingerprint();
    const alertsBefore = alertsOfKind("unknown-fingerprint").length;

    const res = await beat({ secretId: main.secretId, fingerprint: rogue, instanceId: "engine-1" });

    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "unknown", refreshNow: true, consumerId: "trading-engine" });
    const audit = await changesOf(main.secretId, "trading-engine", "engine-1");
    expect(audit.at(-1)).toMatchObject({
      action: "instance-fingerprint-changed",
      actor: `arn:aws:sts::${CONSUMER_ACCOUNT}:assumed-role/trading-engine/engine-1`,
      details: {
        consumerId: "trading-engine",
        instanceId: "engine-1",
        from: currentFp,
        to: rogue,
        status: "unknown",
      },
    });
    const alerts = alertsOfKind("unknown-fingerprint");
    expect(alerts).toHaveLength(alertsBefore + 1);
    expect(alerts.at(-1)?.attributes.secretId).toBe(main.secretId);
    expect(JSON.parse(alerts.at(-1)?.message ?? "{}")).toMatchObject({
      details: { consumerId: "trading-engine", instanceId: "engine-1", fingerprint: rogue },
    });
  });

  it("carries usage: stored per key × hour with the caller's source IP, the key id from the recorded versions", async () => {
    const hourMs = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    const usage = {
      hours: [
        {
          hour: new Date(hourMs).toISOString(),
          fingerprint: currentFp,
          requests: { spot: 12, account: 1 },
          authFailures: { "ip-not-allowed": 1 },
        },
      ],
    };
    const res = await beat({
      secretId: main.secretId,
      fingerprint: currentFp,
      instanceId: "engine-u",
      usage,
    });

    expect(res.status).toBe(200);
    expect(res.json.usage).toEqual({ recorded: 1, ignored: 0 });
    const store = new DynamoUsageStore(
      documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb }),
      stack.tables.consumers,
    );
    const hour = hourMs / 3_600_000;
    const recorded = (await main.deps.store.getVersions(main.secretId))?.current?.exchangeKeyId;
    expect(await store.readUsage(main.secretId, hour, hour + 1)).toEqual([
      {
        secretId: main.secretId,
        hour,
        fingerprint: currentFp,
        keyId: recorded,
        requests: { spot: 12, account: 1 },
        authFailures: { "ip-not-allowed": 1 },
        consumerIds: ["trading-engine"],
        sourceIps: [expect.stringMatching(/^127\./)],
      },
    ]);
    const instance = await main.deps.consumers.getInstance(main.secretId, "trading-engine", "engine-u");
    expect(instance?.sourceIp).toMatch(/^127\./);
    // Malformed usage is refused whole, naming the field, and writes nothing.
    const bad = await beat({
      secretId: main.secretId,
      fingerprint: currentFp,
      instanceId: "engine-u",
      usage: { hours: [{ ...usage.hours[0], requests: { futures: 1 } }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/futures/);
    expect((await store.readUsage(main.secretId, hour, hour + 1))[0]?.requests).toEqual({
      spot: 12,
      account: 1,
    });
  });

  it("audits a fingerprint change once, not every heartbeat, in the instance's own stream", async () => {
    const chainBefore = await main.deps.audit.list(main.secretId);

    await beat({ secretId: main.secretId, fingerprint: currentFp, instanceId: "engine-2" });
    await beat({ secretId: main.secretId, fingerprint: currentFp, instanceId: "engine-2" });

    const stream = await changesOf(main.secretId, "trading-engine", "engine-2");
    expect(stream.map((e) => [e.action, e.details?.instanceId])).toEqual([
      ["instance-fingerprint-changed", "engine-2"],
    ]);
    expect(await main.deps.audit.list(main.secretId)).toEqual(chainBefore);
    expect(await main.deps.consumers.getInstance(main.secretId, "trading-engine", "engine-2")).toMatchObject({
      auditSeq: stream[0]?.seq,
      auditHash: stream[0]?.hash,
    });
  });
});

describe("identity comes from the principal, never from the body", () => {
  it.each(["consumerId", "principalArn"])("rejects a body carrying %s (strict schema)", async (field) => {
    const before = await footprint();

    const res = await beat({
      secretId: main.secretId,
      fingerprint: currentFp,
      instanceId: "engine-1",
      [field]: field === "consumerId" ? "market-data-gateway" : roleArn("market-data-gateway"),
    });

    expect(res.status).toBe(400);
    expect(res.json.message).toContain(field);
    expect(await footprint()).toEqual(before);
  });

  it("records a registered caller only as itself, whatever instance id it claims", async () => {
    const gateway = stack.iam.assumeRole(roleArn("market-data-gateway"), "gw-1");
    const claimed = "engine-1"; // an instance id of another consumer
    const engineBefore = await main.deps.consumers.getInstance(main.secretId, "trading-engine", claimed);

    const res = await beat(
      { secretId: main.secretId, fingerprint: randomFingerprint(), instanceId: claimed },
      { credentials: gateway },
    );

    expect(res.status).toBe(200);
    expect(res.json.consumerId).toBe("market-data-gateway");
    expect(await main.deps.consumers.getInstance(main.secretId, "trading-engine", claimed)).toEqual(
      engineBefore,
    );
    expect(
      await main.deps.consumers.getInstance(main.secretId, "market-data-gateway", claimed),
    ).toBeDefined();
  });
});

describe("a principal not registered for the secret", () => {
  it("gets 403, audited outside the secret's chain, no alert, nothing written — and a flood stays one entry", async () => {
    const intruder = stack.iam.assumeRole(roleArn("intruder"), "probe");
    const before = await footprint();
    const rejectedBefore = (await rejections()).length;

    const res = await beat(
      { secretId: main.secretId, fingerprint: currentFp, instanceId: "probe-1" },
      { credentials: intruder },
    );
    for (let i = 2; i <= 20; i++) {
      await beat(
        { secretId: main.secretId, fingerprint: currentFp, instanceId: `probe-${i}` },
        { credentials: intruder },
      );
    }

    expect(res.status).toBe(403);
    expect(res.contentType).toBe("application/json");
    expect(res.json).toMatchObject({ error: "Forbidden" });
    expect(res.json.message).toContain(`arn:aws:iam::${CONSUMER_ACCOUNT}:role/intruder`);
    expect(await footprint()).toEqual(before);
    const recorded = (await rejections()).slice(rejectedBefore);
    expect(recorded).toEqual([
      expect.objectContaining({
        secretId: "_system",
        action: "heartbeat-rejected",
        actor: `arn:aws:sts::${CONSUMER_ACCOUNT}:assumed-role/intruder/probe`,
        details: expect.objectContaining({ secretId: main.secretId, instanceId: "probe-1" }),
      }),
    ]);
  });

  it("gets 403 when registered for another secret only", async () => {
    const risk = stack.iam.assumeRole(roleArn("risk-service"), "risk-1");
    const sanity = await beat(
      { secretId: other.secretId, fingerprint: randomFingerprint(), instanceId: "risk-1" },
      { credentials: risk },
    );
    const instancesBefore = (await main.deps.consumers.listInstances(main.secretId)).length;

    const res = await beat(
      { secretId: main.secretId, fingerprint: currentFp, instanceId: "risk-1" },
      { credentials: risk },
    );

    expect(sanity.status).toBe(200);
    expect(res.status).toBe(403);
    expect(res.json.error).toBe("Forbidden");
    expect((await main.deps.consumers.listInstances(main.secretId)).length).toBe(instancesBefore);
    expect((await rejections()).at(-1)).toMatchObject({
      action: "heartbeat-rejected",
      details: expect.objectContaining({ secretId: main.secretId, instanceId: "risk-1" }),
    });
  });
});

describe("principals that are neither a role nor a user (federated user, root)", () => {
  // The local IAM stand-in issues role sessions only, so these go to the handler with the event
  // the function URL builds for them; the module is the one the local front door serves.
  it.each([`arn:aws:sts::${CONSUMER_ACCOUNT}:federated-user/bob`, `arn:aws:iam::${CONSUMER_ACCOUNT}:root`])(
    "%s gets 403 with an audit entry in the rejections stream, nothing else written",
    async (userArn) => {
      const { heartbeatRoute } = await import("../../functions/heartbeat");
      const before = await footprint();
      const event = {
        requestContext: { authorizer: { iam: { userArn } } },
        body: JSON.stringify({ secretId: main.secretId, fingerprint: currentFp, instanceId: "fed-1" }),
        isBase64Encoded: false,
      } as unknown as APIGatewayProxyEventV2WithIAMAuthorizer;

      const res = await heartbeatRoute(event);
      const after = await footprint();

      expect(res.statusCode).toBe(403);
      expect(JSON.parse(String(res.body))).toMatchObject({ error: "Forbidden" });
      expect(after).toEqual(before);
      expect((await rejections()).at(-1)).toMatchObject({ action: "heartbeat-rejected", actor: userArn });
    },
  );
});

describe("what every invocation pays", () => {
  it("arms no early-timeout timer (middy reads the remaining time only to arm one)", async () => {
    const { handler } = await import("../../functions/heartbeat");
    const getRemainingTimeInMillis = vi.fn(() => 10_000);
    const context = { ...lambdaContext("heartbeat"), getRemainingTimeInMillis };
    const event = {
      body: "{}",
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2WithIAMAuthorizer;

    const res = await handler(event, context);

    expect(res.statusCode).toBe(403);
    expect(getRemainingTimeInMillis).not.toHaveBeenCalled();
  });
});

describe("requests the function URL itself rejects (the handler never runs, nothing is written)", () => {
  const forbidden = { Message: FORBIDDEN_MESSAGE };
  const valid = () => JSON.stringify({ secretId: main.secretId, fingerprint: currentFp, instanceId: "x-1" });

  it("unsigned → 403 AccessDeniedException", async () => {
    const before = await footprint();

    const res = await send(valid(), { sign: false });

    expect(res.status).toBe(403);
    expect(res.json).toEqual(forbidden);
    expect(await footprint()).toEqual(before);
  });

  it("signed for API Gateway (service execute-api) → 403", async () => {
    const url = new URL("/heartbeats", stack.endpoints.heartbeatApi);
    const body = valid();
    const headers = await new (await import("@smithy/signature-v4")).SignatureV4({
      credentials: engine,
      region: stack.region,
      service: "execute-api",
      sha256: (await import("@aws-crypto/sha256-js")).Sha256,
    }).sign({
      method: "POST",
      protocol: "http:",
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, "content-type": "application/json" },
      body,
    });

    const res = await fetch(url, {
      method: "POST",
      headers: headers.headers as Record<string, string>,
      body,
    });

    expect(res.status).toBe(403);
    expect(await res.json()).toEqual(forbidden);
  });

  it("body tampered with after signing → 403 signature mismatch", async () => {
    const before = await footprint();

    const res = await send(valid(), { tamper: (b) => b.replace('"x-1"', '"x-2"') });

    expect(res.status).toBe(403);
    expect(res.json).toEqual(forbidden);
    expect(await footprint()).toEqual(before);
  });

  it("body and its x-amz-content-sha256 header both replaced after signing → 403", async () => {
    const before = await footprint();

    const res = await send(valid(), {
      tamper: (b, headers) => {
        const forged = b.replace('"x-1"', '"x-2"');
        headers["x-amz-content-sha256"] = createHash("sha256").update(forged).digest("hex");
        return forged;
      },
    });

    expect(res.status).toBe(403);
    expect(res.json).toEqual(forbidden);
    expect(await footprint()).toEqual(before);
  });

  it("a real access key with another session token → 403 invalid token", async () => {
    const before = await footprint();
    const stolenKey = { ...engine, sessionToken: randomBytes(48).toString("base64url") };

    const res = await send(valid(), { credentials: stolenKey });

    expect(res.status).toBe(403);
    expect(res.json).toEqual(forbidden);
    expect(await footprint()).toEqual(before);
  });

  it("credentials the IAM stand-in never issued → 403 invalid token", async () => {
    const before = await footprint();
    const forged: LocalCredentials = {
      accessKeyId: `ASIA${randomBytes(8).toString("hex").toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString("base64url"),
      sessionToken: randomBytes(48).toString("base64url"),
    };

    const res = await send(valid(), { credentials: forged });

    expect(res.status).toBe(403);
    expect(res.json).toEqual(forbidden);
    expect(await footprint()).toEqual(before);
  });
});

describe("malformed input: 400 naming the problem, nothing written", () => {
  const ok = () => ({ secretId: main.secretId, fingerprint: currentFp, instanceId: "engine-1" });
  const cases: Array<[string, () => string, RegExp]> = [
    ["not JSON", () => "secretId=x&fingerprint=y", /JSON object/],
    ["empty", () => "", /JSON object/],
    ["an array", () => JSON.stringify([ok()]), /object/],
    ["JSON null", () => "null", /object/],
    [
      "missing fingerprint",
      () => JSON.stringify({ secretId: main.secretId, instanceId: "engine-1" }),
      /fingerprint/,
    ],
    [
      "fingerprint of the wrong scheme",
      () => JSON.stringify({ ...ok(), fingerprint: "fp2_0123456789abcdef" }),
      /fingerprint/,
    ],
    [
      "fingerprint too short",
      () => JSON.stringify({ ...ok(), fingerprint: "fp1_0123456789abcde" }),
      /fingerprint/,
    ],
    [
      "fingerprint in upper case",
      () => JSON.stringify({ ...ok(), fingerprint: "fp1_0123456789ABCDEF" }),
      /fingerprint/,
    ],
    ["fingerprint as a number", () => JSON.stringify({ ...ok(), fingerprint: 42 }), /fingerprint/],
    ["instanceId with spaces", () => JSON.stringify({ ...ok(), instanceId: "engine 1" }), /instanceId/],
    ["instanceId too long", () => JSON.stringify({ ...ok(), instanceId: "i".repeat(129) }), /instanceId/],
    ["instanceId empty", () => JSON.stringify({ ...ok(), instanceId: "" }), /instanceId/],
    [
      "secretId with invalid chars",
      () => JSON.stringify({ ...ok(), secretId: "keyshift/ex change*" }),
      /secretId/,
    ],
    ["an unknown extra field", () => JSON.stringify({ ...ok(), region: "eu-west-1" }), /region/],
    // JSON.parse keeps the last; a log parser or a proxy may keep the first: refused, naming the key.
    [
      "a key named twice",
      () =>
        `{"secretId":"${other.secretId}","fingerprint":"${currentFp}","instanceId":"engine-1","secretId":"${main.secretId}"}`,
      /"secretId" more than once/,
    ],
    [
      "a key named twice, once escaped",
      () =>
        `{"secretId":"${main.secretId}","fingerprint":"${currentFp}","instanceId":"engine-1","\\u0069nstanceId":"x"}`,
      /"instanceId" more than once/,
    ],
  ];

  it.each(cases)("%s", async (_label, body, names) => {
    const before = await footprint();

    const res = await send(body());

    expect(res.status).toBe(400);
    expect(res.contentType).toBe("application/json");
    expect(res.json.error).toBe("InvalidInput");
    expect(String(res.json.message)).toMatch(names);
    expect(await footprint()).toEqual(before);
  });

  it("oversized body → 413 from the handler, nothing written", async () => {
    const before = await footprint();

    const res = await beat({ ...ok(), padding: "x".repeat(5000) });

    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ error: "PayloadTooLarge" });
    expect(String(res.json.message)).toContain("4096");
    expect(await footprint()).toEqual(before);
  });

  it("another path → 404, another method → 405 (a function URL hands the handler everything)", async () => {
    const before = await footprint();
    const signedTo = async (method: string, path: string) => {
      const url = new URL(path, stack.endpoints.heartbeatApi);
      const body = method === "GET" ? "" : JSON.stringify(ok());
      const headers = await signRequest({ method, url, headers: {}, body }, engine, stack.region);
      return fetch(url, { method, headers, ...(body ? { body } : {}) });
    };

    const wrongPath = await signedTo("POST", "/heartbeat");
    const wrongMethod = await signedTo("GET", "/heartbeats");

    expect([wrongPath.status, wrongMethod.status]).toEqual([404, 405]);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(await footprint()).toEqual(before);
  });

  it("a Host header the URL parser cannot take → 400 before anything else (not a 500)", async () => {
    const before = await footprint();
    const url = new URL(stack.endpoints.heartbeatApi);

    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: "/heartbeats",
          method: "POST",
          headers: { host: "bad host:x" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify(ok()));
    });

    expect(status).toBe(400);
    expect(await footprint()).toEqual(before);
  });

  it("body past the API's own limit → 413 before the handler", async () => {
    const before = await footprint();

    const res = await beat({ ...ok(), padding: "x".repeat(70 * 1024) });

    expect(res.status).toBe(413);
    expect(await footprint()).toEqual(before);
  });
});

describe("no secret value leaves through the heartbeat path", () => {
  it("appears in no response, audit entry or alert", async () => {
    const values = await allSecretValues(stack.endpoints.secretsManager, stack.region);
    const instances = [
      ...(await main.deps.consumers.listInstances(main.secretId)),
      ...(await main.deps.consumers.listInstances(other.secretId)),
    ];
    const audit = [
      ...(await main.deps.audit.list(main.secretId)),
      ...(await main.deps.audit.list(other.secretId)),
      ...(await rejections()),
      ...(await Promise.all(instances.map((i) => changesOf(i.secretId, i.consumerId, i.instanceId)))).flat(),
    ];
    const haystacks = [
      ...seen,
      ...audit.map((e) => ({ where: `audit ${e.secretId}#${e.seq}`, text: JSON.stringify(e) })),
      ...stack.sns.messages().map((m, i) => ({ where: `alert ${i}`, text: JSON.stringify(m) })),
    ];

    // Guard against a vacuous pass: the scan sees the values and the haystacks are real.
    expect(values.length).toBeGreaterThanOrEqual(4);
    expect(seen.length).toBeGreaterThan(20);
    expect(scanForSecrets([{ where: "canary", text: `x${values[0]}x` }], values)).not.toEqual([]);
    expect(scanForSecrets(haystacks, values)).toEqual([]);
  });
});
