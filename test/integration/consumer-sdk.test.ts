/**
 * The README's consumer example, run as a real trading service: its own process, importing
 * `@keyshift/consumer` through the package's exports, credentials from the default chain (an assumed
 * role's temporary credentials in the environment, as ECS/EKS/Lambda provide them), Secrets Manager
 * found through `AWS_ENDPOINT_URL_SECRETS_MANAGER`. A real rotation runs meanwhile (the ASL, the
 * handlers, the SigV4-checking heartbeat API). What is asserted is the SDK's promise: the service holds
 * the current key throughout, switches one round trip after being told `stale` (not one interval or one
 * TTL later), and never makes a request with a removed key.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONSUMER_ACCOUNT,
  type Enrolled,
  enrollLocalSecret,
  registerConsumers,
} from "../../harness/local/scenario";
import { allSecretValues, captureLambdaLogs, scanForSecrets } from "../../harness/local/secret-scan";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { runRotation } from "../../harness/local/workflow-runner";

const EXAMPLE = "test/fixtures/consumer/readme-example.ts";
const ROLE_ARN = `arn:aws:iam::${CONSUMER_ACCOUNT}:role/trading/trading-engine`;
/** What the server asks for; the switch must come far sooner than this. */
const HEARTBEAT_SECONDS = 5;

interface Heartbeat {
  event: "heartbeat";
  sentAt: number;
  answeredAt: number;
  fingerprint: string;
  httpStatus: number;
  status?: string;
  nextHeartbeatSeconds?: number;
}
interface Order {
  event: "order";
  sentAt: number;
  at: number;
  keyId: string;
  httpStatus: number;
}
type ServiceEvent = Heartbeat | Order | { event: string; at?: number; keyId?: string };

let stack: LocalStack;
let enrolled: Enrolled;
let service: ChildProcessWithoutNullStreams;
let stdout = "";
let stderr = "";
let exited: Promise<number | null>;
let logs: ReturnType<typeof captureLambdaLogs>;

const events = (): ServiceEvent[] =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as ServiceEvent);
const heartbeats = () => events().filter((e): e is Heartbeat => e.event === "heartbeat");
const orders = () => events().filter((e): e is Order => e.event === "order");

async function until(what: string, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; service stderr: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  logs = captureLambdaLogs();
  stack = await startLocalStack({ seed: 21 });
  enrolled = await enrollLocalSecret(stack, {
    account: "sdk-readme",
    settings: { deadlineSeconds: 60, minOverlapSeconds: 1 },
  });
  await registerConsumers(enrolled, [
    {
      consumerId: "trading-engine",
      roleArn: ROLE_ARN,
      secretId: enrolled.secretId,
      instances: 1,
      cacheTtlMs: 300_000,
      heartbeatMs: HEARTBEAT_SECONDS * 1000,
    },
  ]);
  // What the platform gives the service's task or pod: its role's temporary credentials.
  const role = stack.iam.assumeRole(ROLE_ARN, "trading-engine-task-1");
  service = spawn(
    process.execPath,
    ["--conditions=keyshift-source", "--import", "tsx", "test/fixtures/consumer/trading-service.ts"],
    {
      env: {
        PATH: process.env.PATH,
        HOME: tmpdir(),
        AWS_REGION: stack.region,
        AWS_ACCESS_KEY_ID: role.accessKeyId,
        AWS_SECRET_ACCESS_KEY: role.secretAccessKey,
        AWS_SESSION_TOKEN: role.sessionToken,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: stack.endpoints.secretsManager,
        KEYSHIFT_SECRET_ID: enrolled.secretId,
        KEYSHIFT_HEARTBEAT_URL: new URL("/heartbeats", stack.endpoints.heartbeatApi).href,
        EXCHANGE_URL: stack.endpoints.exchange,
      },
    },
  );
  service.stdout.on("data", (d) => (stdout += d));
  service.stderr.on("data", (d) => (stderr += d));
  exited = new Promise((resolve) => service.on("close", (code) => resolve(code)));
  await until("the service's first heartbeat", () => heartbeats().some((h) => h.status === "current"));
});

afterAll(async () => {
  if (service && service.exitCode === null) service.kill("SIGKILL");
  logs?.restore();
  await stack?.close();
});

describe("the README consumer example", () => {
  it("is, verbatim, the code block under 'Joining as a consumer' in the README", () => {
    const readme = readFileSync("README.md", "utf8");
    const section = readme.slice(readme.indexOf("## Joining as a consumer"));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];

    expect(block).toBe(readFileSync(EXAMPLE, "utf8"));
  });

  it("holds the current key through a rotation, switches one round trip after `stale`, never uses a removed key", async () => {
    const before = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current;
    await until("a few orders", () => orders().length >= 3);

    const rotation = await runRotation(
      { secretId: enrolled.secretId, trigger: "manual" },
      { waitMs: 150, retryMs: 20 },
    );
    const after = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current;
    const ordersAtRevocation = orders().length;
    await until("orders after the revocation", () => orders().length >= ordersAtRevocation + 3);
    service.kill("SIGTERM");
    const code = await exited;

    // The rotation went all the way: the old key is gone from the exchange.
    expect(rotation.status).toBe("SUCCEEDED");
    expect(after?.fingerprint).not.toBe(before?.fingerprint);
    const oldKey = stack.exchange.keys(enrolled.account).find((k) => k.keyId === before?.exchangeKeyId);
    expect(oldKey?.status).toBe("removed");

    // One switch, told by `stale`, reported by the very next heartbeat one Secrets Manager read later.
    const beats = heartbeats();
    const told = beats.findIndex((h) => h.status === "stale");
    const [staleBeat, nextBeat] = [beats[told], beats[told + 1]];
    expect(told).toBeGreaterThan(0);
    // The server asks for the next heartbeat at once on `stale` (0), and the SDK reports the new key
    // as soon as it has read it.
    expect(staleBeat).toMatchObject({ fingerprint: before?.fingerprint, nextHeartbeatSeconds: 0 });
    expect(nextBeat).toMatchObject({ fingerprint: after?.fingerprint, status: "current" });
    expect((nextBeat?.sentAt ?? Infinity) - (staleBeat?.answeredAt ?? 0)).toBeLessThan(1500);
    expect(beats.map((h) => h.fingerprint)).toEqual([
      ...Array(told + 1).fill(before?.fingerprint),
      ...Array(beats.length - told - 1).fill(after?.fingerprint),
    ]);
    expect(beats.every((h) => h.httpStatus === 200)).toBe(true);

    // Every order succeeded, with the old key until the switch and the new one after; never a removed key.
    const placed = orders();
    expect(placed.every((o) => o.httpStatus === 200)).toBe(true);
    // (An order that read the key a few ms before the refresh may still go out with the old one.)
    const afterSwitch = placed.filter((o) => o.sentAt > (nextBeat?.sentAt ?? 0) + 50);
    expect(afterSwitch.length).toBeGreaterThanOrEqual(3);
    expect(afterSwitch.every((o) => o.keyId === after?.exchangeKeyId)).toBe(true);
    expect(placed.slice(0, 3).every((o) => o.keyId === before?.exchangeKeyId)).toBe(true);
    expect(stack.exchange.requestLog().filter((r) => r.keyState === "removed")).toEqual([]);
    expect(events().filter((e) => e.event === "reconnect")).toEqual([
      expect.objectContaining({ keyId: after?.exchangeKeyId }),
    ]);

    // SIGTERM: the example stops its consumer, nothing keeps the process up, no value was printed.
    expect(code).toBe(0);
    expect(events().at(-1)).toMatchObject({ event: "stopped" });
    const secrets = await allSecretValues(stack.endpoints.secretsManager, stack.region);
    const haystacks = [
      { where: "service output", text: stdout + stderr },
      ...logs.lines.map((text, i) => ({ where: `handler log ${i}`, text })),
    ];
    expect(scanForSecrets(haystacks, secrets)).toEqual([]);
  });
});

describe("the protocol document's curl example", () => {
  const hasCurl = spawnSync("curl", ["--version"]).status === 0;

  it.skipIf(!hasCurl)("is a heartbeat the local stack accepts, signed by curl --aws-sigv4", async () => {
    const doc = readFileSync("docs/heartbeat-protocol.md", "utf8");
    const block = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)]
      .map((m) => m[1])
      .find((b) => b?.includes("--aws-sigv4"));
    const role = stack.iam.assumeRole(ROLE_ARN, "curl-session");
    const sm = new SecretsManagerClient({ region: stack.region, endpoint: stack.endpoints.secretsManager });
    const current = await sm.send(new GetSecretValueCommand({ SecretId: enrolled.secretId }));
    sm.destroy();

    const { stdout: answer } = await promisify(execFile)("bash", ["-c", block ?? "exit 1"], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: stack.region,
        AWS_ACCESS_KEY_ID: role.accessKeyId,
        AWS_SECRET_ACCESS_KEY: role.secretAccessKey,
        AWS_SESSION_TOKEN: role.sessionToken,
        HEARTBEAT_URL: new URL("/heartbeats", stack.endpoints.heartbeatApi).href,
        SECRET_ID: enrolled.secretId,
        SECRET_STRING: current.SecretString,
      },
    });

    expect(JSON.parse(answer)).toMatchObject({
      status: "current",
      consumerId: "trading-engine",
      refreshNow: false,
    });
  });
});
