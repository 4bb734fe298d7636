/**
 * `keys provide` as deployed: from an operator's own shell, through the operator API. The operator's
 * role may not store a key (the read policy's guard lets only keyshift's writers PutSecretValue) and
 * the key is bound to keyshift's egress, so the command runs in the operator API — a writer, in the
 * egress VPC — and the key travels there as the envelope's stdin. Nothing on the way keeps it.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedFleet } from "../../harness/local/consumers";
import { LOCAL_ACCOUNT } from "../../harness/local/definition";
import { BOUND_TO_EGRESS } from "../../harness/local/exchanges";
import type { LocalCredentials } from "../../harness/local/local-iam";
import {
  defaultConsumers,
  type Enrolled,
  enrollLocalSecret,
  registerConsumers,
} from "../../harness/local/scenario";
import { captureLambdaLogs, scanForSecrets } from "../../harness/local/secret-scan";
import { operatorEnv, startLocalStack } from "../../harness/local/stack";
import { type ExecutionResult, runRotation } from "../../harness/local/workflow-runner";
import { runKeyshift } from "../../src/cli/run";
import type { ManualTask } from "../../src/core/model";
import { sleep, statesEntered, type World } from "./harness";

const world = {} as World;
const dir = mkdtempSync(join(tmpdir(), "keyshift-provide-api-"));
let counter = 0;
/** A platform admin's role: IAM allows it every Secrets Manager action; the read policy's guard does not. */
const ADMIN_ROLE = `arn:aws:iam::${LOCAL_ACCOUNT}:role/platform-admin`;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
  const logs = captureLambdaLogs();
  const stack = await startLocalStack({ seed: 17, manualTaskSeconds: 30 });
  stack.iam.grant(ADMIN_ROLE, ["secretsmanager:*"]);
  Object.assign(world, { stack, logs, executions: [], fleets: [] });
});
afterAll(async () => {
  await Promise.all(world.fleets.map((f) => f.stop()));
  world.logs.restore();
  await world.stack.close();
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI as `env` says (an operator through the operator API, or a shell of its own). */
async function cli(env: NodeJS.ProcessEnv, argv: string[], stdin?: string): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runKeyshift(argv, {
    env,
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    ...(stdin !== undefined ? { readStdin: async () => stdin } : {}),
  });
  return { code, stdout, stderr };
}

/** Operator A through the operator API: invoke rights only, its own keys. */
const viaApi = (argv: string[], stdin?: string) =>
  cli({ ...process.env, ...operatorEnv(world.stack, world.stack.operators.a) }, argv, stdin);

/**
 * An operator's own shell with its own role and no operator API: the real CLI in a process of its
 * own (so every call it makes signs as `who`), leaving from keyshift's egress when `fromEgress`.
 */
function ownShell(
  who: LocalCredentials,
  argv: string[],
  stdin: string,
  fromEgress: boolean,
): Promise<CliResult> {
  const imports = [
    "--import",
    "tsx",
    ...(fromEgress ? ["--import", "./test/workflow/leave-from-egress.ts"] : []),
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...imports, "bin/keyshift.mjs", ...argv], {
      env: {
        ...process.env,
        ...world.stack.env,
        AWS_ACCESS_KEY_ID: who.accessKeyId,
        AWS_SECRET_ACCESS_KEY: who.secretAccessKey,
        AWS_SESSION_TOKEN: who.sessionToken,
        POWERTOOLS_LOG_LEVEL: "ERROR",
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function krakenSecret(): Promise<Enrolled> {
  counter += 1;
  const enrolled = await enrollLocalSecret(world.stack, {
    exchange: "kraken",
    account: `kraken-api-${counter}`,
    ipBinding: BOUND_TO_EGRESS,
  });
  const specs = defaultConsumers(enrolled.secretId, 2).map((s) => ({ ...s, exchange: "kraken" as const }));
  await registerConsumers(enrolled, specs);
  const fleet = new SimulatedFleet(world.stack, specs);
  await fleet.start();
  world.fleets.push(fleet);
  return enrolled;
}

async function openTask(enrolled: Enrolled, kind: ManualTask["kind"]): Promise<ManualTask> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    const task = (await enrolled.deps.tasks.listOpen()).find(
      (t) => t.secretId === enrolled.secretId && t.kind === kind && t.status === "open",
    );
    if (task) return task;
    await sleep(100);
  }
  throw new Error(`no open ${kind} task for ${enrolled.secretId}`);
}

function start(enrolled: Enrolled): Promise<ExecutionResult> {
  return runRotation({ secretId: enrolled.secretId, trigger: "manual" } as never, {
    waitMs: 150,
    retryMs: 20,
  }).then((r) => {
    world.executions.push(r);
    return r;
  });
}

/** The key the task asks for, made at the web UI; `extra` permissions make it a wrong one. */
function makeKey(enrolled: Enrolled, task: ManualTask, extra: string[] = []) {
  const r = task.request;
  return world.stack.webUi.kraken.createKey(enrolled.account, {
    name: r?.label as string,
    permissions: [...(r?.permissions ?? []), ...extra],
    ipAllowlist: r?.ipAllowlist ?? [],
  });
}

/** The deletion the rotation asks for next, done and confirmed through the operator API. */
async function finishDeletion(enrolled: Enrolled, running: Promise<ExecutionResult>): Promise<CliResult> {
  const deletion = await openTask(enrolled, "delete-key");
  world.stack.webUi.kraken.deleteKey(enrolled.account, deletion.keyId as string);
  const confirmed = await viaApi(["keys", "confirm-deleted", deletion.taskId, "--json"]);
  expect(confirmed.code, confirmed.stderr).toBe(0);
  expect((await running).status).toBe("SUCCEEDED");
  return confirmed;
}

/** Every item of every keyshift table, as text. */
async function allItems(): Promise<Array<{ where: string; text: string }>> {
  const db = new DynamoDBClient({ region: world.stack.region, endpoint: world.stack.endpoints.dynamodb });
  const out: Array<{ where: string; text: string }> = [];
  try {
    for (const table of Object.values(world.stack.tables)) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey } as never));
        for (const [i, item] of (page.Items ?? []).entries())
          out.push({ where: `${table} item ${i}`, text: JSON.stringify(item) });
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
  } finally {
    db.destroy();
  }
  return out;
}

describe("keys provide through the operator API (Kraken)", () => {
  it("a wrong key is refused with the reason and the task stays open; the right one resumes the execution, audited as the caller; the key is kept nowhere", async () => {
    const enrolled = await krakenSecret();
    const running = start(enrolled);
    const create = await openTask(enrolled, "create-key");

    const broad = makeKey(enrolled, create, ["withdraw-funds"]);
    const refused = await viaApi(
      ["keys", "provide", create.taskId, "--stdin", "--json"],
      JSON.stringify(broad),
    );
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain("withdraw-funds");
    expect((await enrolled.deps.tasks.get(create.taskId))?.status).toBe("open");
    world.stack.webUi.kraken.deleteKey(enrolled.account, broad.keyId);

    const made = makeKey(enrolled, create);
    const file = join(dir, "kraken-key.json");
    writeFileSync(file, JSON.stringify(made), { mode: 0o600 });
    const provided = await viaApi(["keys", "provide", create.taskId, "--from-file", file, "--json"]);
    expect(provided.code, provided.stderr).toBe(0);
    expect(JSON.parse(provided.stdout)).toMatchObject({
      keyId: made.keyId,
      workflow: "resumed",
      verified: "exchange",
    });
    const confirmed = await finishDeletion(enrolled, running);

    const active = world.stack.exchanges.kraken.keys(enrolled.account).filter((k) => k.status === "active");
    expect(active.map((k) => k.keyId)).toEqual([made.keyId]);
    // Who: the principal the operator API's front door authenticated, never a name in the body.
    const audit = await enrolled.deps.audit.list(enrolled.secretId);
    const provide = audit.find((e) => e.action === "key-provided");
    expect(provide?.actor).toBe(`operator:${world.stack.operators.a.arn}`);
    expect(provide?.details).toMatchObject({ taskId: create.taskId, keyId: made.keyId });
    expect(audit.find((e) => e.action === "key-provided-refused")?.actor).toBe(
      `operator:${world.stack.operators.a.arn}`,
    );

    // The key is nowhere but Secrets Manager: not in any table (the approvals' included), any log
    // line (the operator API's own), any audit entry, alert, execution or answer replayed here.
    const haystacks = [
      ...(await allItems()),
      ...world.logs.lines.map((text, i) => ({ where: `log ${i}`, text })),
      ...audit.map((a) => ({ where: `audit ${a.seq}`, text: JSON.stringify(a) })),
      ...world.stack.sns.messages().map((m, i) => ({ where: `alert ${i}`, text: JSON.stringify(m) })),
      ...world.executions.map((x, i) => ({ where: `execution ${i}`, text: JSON.stringify(x) })),
      ...[refused, provided, confirmed].map((r, i) => ({ where: `answer ${i}`, text: r.stdout + r.stderr })),
    ];
    expect(world.logs.lines.some((l) => l.includes('"operator command"') && l.includes("keys provide"))).toBe(
      true,
    );
    expect(haystacks.some((h) => h.text.includes(made.keyId))).toBe(true);
    expect(scanForSecrets(haystacks, [made.secret, broad.secret])).toEqual([]);
    expect(statesEntered(await running)).toEqual(expect.arrayContaining(["AwaitManualKey", "CreateNext"]));
  }, 120_000);

  it("from an operator's own shell it cannot work: refused by the key's IP binding from outside, by the read policy's guard from the egress (the task re-opened, told to use the operator API); the operator API stores it", async () => {
    const enrolled = await krakenSecret();
    const running = start(enrolled);
    const create = await openTask(enrolled, "create-key");
    const made = makeKey(enrolled, create);
    const admin = world.stack.iam.assumeRole(ADMIN_ROLE, "admin");
    const argv = ["keys", "provide", create.taskId, "--stdin"];

    // A laptop: the key is bound to keyshift's egress (and the trading hosts), so its checks fail.
    const outside = await ownShell(admin, argv, JSON.stringify(made), false);
    expect(outside.code).toBe(1);
    expect(outside.stderr).toContain("The task stays open");
    expect((await enrolled.deps.tasks.get(create.taskId))?.status).toBe("open");
    // A host at the egress with every Secrets Manager action in IAM: the guard keeps it from storing.
    const atEgress = await ownShell(admin, argv, JSON.stringify(made), true);
    expect(atEgress.code, atEgress.stderr).toBe(1);
    expect(atEgress.stderr).toContain("AccessDeniedException");
    expect(atEgress.stderr).toContain("through the operator API");
    // Not left claimed by an answer that cannot finish, and nothing stored: the next answer goes on.
    expect((await enrolled.deps.tasks.get(create.taskId))?.status).toBe("open");
    const versions = await enrolled.deps.secrets.listVersions(enrolled.secretId);
    expect(versions.filter((v) => v.stages.includes("AWSPENDING"))).toEqual([]);
    expect(
      scanForSecrets([{ where: "shells", text: outside.stderr + atEgress.stderr }], [made.secret]),
    ).toEqual([]);

    const provided = await viaApi([...argv, "--json"], JSON.stringify(made));

    expect(provided.code, provided.stderr).toBe(0);
    expect(JSON.parse(provided.stdout)).toMatchObject({ keyId: made.keyId, workflow: "resumed" });
    await finishDeletion(enrolled, running);
  }, 120_000);
});
