import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedFleet } from "../../harness/local/consumers";
import { BOUND_TO_EGRESS } from "../../harness/local/exchanges";
import {
  defaultConsumers,
  type Enrolled,
  enrollLocalSecret,
  registerConsumers,
} from "../../harness/local/scenario";
import { allSecretValues, captureLambdaLogs, scanForSecrets } from "../../harness/local/secret-scan";
import { startLocalStack } from "../../harness/local/stack";
import { type ExecutionResult, runRotation } from "../../harness/local/workflow-runner";
import { runKeyshift } from "../../src/cli/run";
import type { ManualTask } from "../../src/core/model";
import { sleep, statesEntered, type World } from "./harness";

/**
 * Keys only a person can make and delete (Kraken), through the real ASL file: the execution waits on
 * task tokens (`AwaitManualKey`, `AwaitManualDeletion`), a person acts at the simulator's web UI, and
 * the real CLI in this process (so its exchange calls leave from keyshift's egress) answers.
 */
const world = {} as World;
const TASK_SECONDS = 20;
const dir = mkdtempSync(join(tmpdir(), "keyshift-manual-"));
let counter = 0;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = "INFO";
  const logs = captureLambdaLogs();
  const stack = await startLocalStack({ seed: 11, manualTaskSeconds: TASK_SECONDS });
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

async function cli(argv: string[], stdin?: string): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runKeyshift(argv, {
    env: { ...process.env, ...world.stack.env },
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    ...(stdin !== undefined ? { readStdin: async () => stdin } : {}),
  });
  return { code, stdout, stderr };
}

async function krakenSecret(): Promise<Enrolled> {
  counter += 1;
  const enrolled = await enrollLocalSecret(world.stack, {
    exchange: "kraken",
    account: `kraken-${counter}`,
    ipBinding: BOUND_TO_EGRESS,
  });
  const specs = defaultConsumers(enrolled.secretId, 2).map((s) => ({ ...s, exchange: "kraken" as const }));
  await registerConsumers(enrolled, specs);
  const fleet = new SimulatedFleet(world.stack, specs);
  await fleet.start();
  world.fleets.push(fleet);
  return enrolled;
}

async function openTask(
  enrolled: Enrolled,
  kind: ManualTask["kind"],
  timeoutMs = 15_000,
): Promise<ManualTask> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const task = (await enrolled.deps.tasks.listOpen()).find(
      (t) => t.secretId === enrolled.secretId && t.kind === kind && t.status === "open",
    );
    if (task) return task;
    await sleep(100);
  }
  throw new Error(`no open ${kind} task for ${enrolled.secretId}`);
}

/** `waiting`, unless the execution ends first: then its history says why. */
function whileRunning<T>(running: Promise<ExecutionResult>, waiting: Promise<T>): Promise<T> {
  const ended = running.then((r) => {
    const trail = r.history
      .filter((e) => e.type === "StateEntered" || e.error)
      .map((e) => `${e.state ?? ""}${e.error ? `!${e.error}` : ""}`);
    throw new Error(`execution ended ${r.status} ${r.error ?? ""} ${r.cause ?? ""}: ${trail.join(" > ")}`);
  });
  return Promise.race([waiting, ended]);
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await sleep(50);
  }
}

function keyFile(key: { keyId: string; secret: string }): string {
  counter += 1;
  const file = join(dir, `key-${counter}.json`);
  writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  return file;
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

describe("a rotation a person makes and deletes the key of (Kraken)", () => {
  it("waits for the key, refuses a wrong one, stores the right one, waits for the deletion, checks it, completes", async () => {
    const enrolled = await krakenSecret();
    const ui = world.stack.webUi.kraken;
    const original = (await enrolled.deps.store.getVersions(enrolled.secretId))?.current
      ?.exchangeKeyId as string;
    const running = start(enrolled);

    const create = await whileRunning(running, openTask(enrolled, "create-key", 30_000));
    const request = create.request;
    expect(request).toMatchObject({ permissions: ["modify-trades", "query-funds", "query-open-trades"] });
    // The replaced key's binding (egress + trading host) is asked for, with keyshift's egress on it.
    expect(request?.ipAllowlist).toEqual(expect.arrayContaining(["127.0.0.2", "127.0.0.3"]));
    // The alert names the task (it is sent right after the task is recorded).
    await waitFor(() => JSON.stringify(world.stack.sns.messages()).includes(create.taskId));

    // A key with a permission the replaced key lacks is refused; the task stays open.
    const broad = ui.createKey(enrolled.account, {
      name: request?.label as string,
      permissions: [...(request?.permissions ?? []), "withdraw-funds"],
      ipAllowlist: request?.ipAllowlist ?? [],
    });
    const refused = await cli(["keys", "provide", create.taskId, "--from-file", keyFile(broad), "--json"]);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain("withdraw-funds");
    expect(refused.stderr).not.toContain(broad.secret);
    expect((await enrolled.deps.tasks.get(create.taskId))?.status).toBe("open");
    ui.deleteKey(enrolled.account, broad.keyId);

    // A key given as an argument is refused without being echoed.
    const argv = await cli(["keys", "provide", create.taskId, "some-pasted-secret", "--stdin"], "{}");
    expect(argv.code).toBe(64);
    expect(argv.stderr).not.toContain("some-pasted-secret");

    // The right key, through stdin.
    const made = ui.createKey(enrolled.account, {
      name: request?.label as string,
      permissions: request?.permissions ?? [],
      ipAllowlist: request?.ipAllowlist ?? [],
    });
    const provided = await cli(["keys", "provide", create.taskId, "--stdin", "--json"], JSON.stringify(made));
    expect(provided.code, provided.stderr).toBe(0);
    expect(JSON.parse(provided.stdout)).toMatchObject({
      keyId: made.keyId,
      workflow: "resumed",
      verified: "exchange",
    });
    // A second answer to the same task is told who answered.
    const again = await cli(["keys", "provide", create.taskId, "--stdin"], JSON.stringify(made));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already answered by operator:arn:aws:/);

    const deletion = await whileRunning(running, openTask(enrolled, "delete-key", 30_000));
    expect(deletion.keyId).toBe(original);
    const ledgerEntry = await enrolled.deps.ledger.get(deletion.entryId as string);
    expect(ledgerEntry?.status).toBe("awaiting-operator");
    // Confirming before the person deleted it: the old key still authenticates, refused.
    const early = await cli(["keys", "confirm-deleted", deletion.taskId]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("still authenticates");

    ui.deleteKey(enrolled.account, original);
    const confirmed = await cli(["keys", "confirm-deleted", deletion.taskId, "--json"]);
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(JSON.parse(confirmed.stdout)).toMatchObject({ verified: "exchange", workflow: "resumed" });

    const result = await running;
    expect(result.status, result.cause).toBe("SUCCEEDED");
    expect(statesEntered(result)).toEqual(
      expect.arrayContaining([
        "AwaitManualKey",
        "CreateNext",
        "PromoteCurrent",
        "RevokePrevious",
        "AwaitManualDeletion",
      ]),
    );
    const keys = world.stack.exchanges.kraken.keys(enrolled.account);
    expect(keys.filter((k) => k.status === "active").map((k) => k.keyId)).toEqual([made.keyId]);
    expect((await enrolled.deps.ledger.get(deletion.entryId as string))?.status).toBe("revoked");
    // Who provided and who confirmed: the authenticated principal, never a value.
    const audit = await enrolled.deps.audit.list(enrolled.secretId);
    const byAction = (a: string) => audit.filter((e) => e.action === a);
    expect(byAction("key-provided")[0]?.actor).toMatch(/^operator:arn:aws:sts::/);
    expect(byAction("key-provided-refused")).toHaveLength(1);
    expect(byAction("key-deletion-confirmed")[0]?.details).toMatchObject({ verified: "exchange" });

    const secrets = await allSecretValues(world.stack.endpoints.secretsManager, world.stack.region);
    const leaks = scanForSecrets(
      [
        ...world.logs.lines.map((text, i) => ({ where: `log ${i}`, text })),
        ...world.executions.map((x, i) => ({ where: `execution ${i}`, text: JSON.stringify(x) })),
        ...audit.map((a) => ({ where: `audit ${a.seq}`, text: JSON.stringify(a) })),
        ...world.stack.sns.messages().map((m, i) => ({ where: `alert ${i}`, text: JSON.stringify(m) })),
        {
          where: "cli",
          text: provided.stdout + provided.stderr + confirmed.stdout + refused.stdout + refused.stderr,
        },
      ],
      [...secrets, made.secret, broad.secret],
    );
    expect(leaks).toEqual([]);
  }, 90_000);

  it("of two operators providing a key for one task exactly one wins", async () => {
    const enrolled = await krakenSecret();
    const ui = world.stack.webUi.kraken;
    const running = start(enrolled);
    const create = await whileRunning(running, openTask(enrolled, "create-key", 30_000));
    const r = create.request;
    // Kraken key names are unique per account: one person made the key, two operators hand it over.
    const made = ui.createKey(enrolled.account, {
      name: r?.label as string,
      permissions: r?.permissions ?? [],
      ipAllowlist: r?.ipAllowlist ?? [],
    });
    const [a, b] = [JSON.stringify(made), JSON.stringify(made)];
    const answers = await Promise.all([
      cli(["keys", "provide", create.taskId, "--stdin"], a),
      cli(["keys", "provide", create.taskId, "--stdin"], b),
    ]);
    expect(answers.map((x) => x.code).sort()).toEqual([0, 1]);
    expect(answers.find((x) => x.code === 1)?.stderr).toMatch(/is answering task|already answered/);
    // Let the rotation go on to the deletion, then finish it so nothing is left waiting.
    const deletion = await openTask(enrolled, "delete-key", 30_000);
    ui.deleteKey(enrolled.account, deletion.keyId as string);
    expect((await cli(["keys", "confirm-deleted", deletion.taskId])).code).toBe(0);
    expect((await running).status).toBe("SUCCEEDED");
  }, 90_000);

  it("a task nobody answers stalls the rotation: nothing made or revoked, the lock kept; a late answer is told it expired", async () => {
    const enrolled = await krakenSecret();
    const result = await start(enrolled);
    expect(result.status).toBe("FAILED");
    expect(statesEntered(result)).toContain("ParkRotation");
    // Stalled: the lock is kept, marked stalled, for `keyshift resume` or an operator.
    const lock = await enrolled.deps.lock.get(enrolled.secretId);
    expect(lock).toMatchObject({ stalled: true });
    const task = (await enrolled.deps.tasks.listOpen()).find((t) => t.secretId === enrolled.secretId);
    // The state's timer starts when Step Functions enters it, the task's deadline when the Lambda
    // in it runs: a moment later (seconds on a loaded machine). A late answer comes after both.
    const untilDeadline = Date.parse(task?.deadline ?? "") - Date.now();
    if (untilDeadline > 0) await new Promise((resolve) => setTimeout(resolve, untilDeadline + 100));
    const late = await cli(
      ["keys", "provide", task?.taskId as string, "--stdin"],
      '{"keyId":"x","secret":"y"}',
    );
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/expired at .*keyshift resume/);
    const keys = world.stack.exchanges.kraken.keys(enrolled.account);
    expect(keys.filter((k) => k.status === "active")).toHaveLength(1);
  }, 60_000);
});
