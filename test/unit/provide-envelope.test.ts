/**
 * `keys provide` as a writing command: the key travels from the shell to where the command runs as
 * the envelope's `stdin` only, and nothing on the operator plane stores or repeats it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InMemoryManualTasks, InMemoryOperatorRequests } from "../../harness/memory";
import { keysProvide } from "../../src/cli/commands/manual";
import { type ApprovalPolicy, approvalPolicy } from "../../src/cli/dispatch";
import { executeEnvelope } from "../../src/cli/operator-api";
import { envelopeOf } from "../../src/cli/remote";
import { runKeyshift } from "../../src/cli/run";
import type { AppDeps } from "../../src/commons/deps";
import { type CommandEnvelope, openRequest } from "../../src/core/operator/approvals";
import { makeDeps } from "./fakes";

const ARN = "arn:aws:sts::000000000000:assumed-role/ops-a/alice";
const TASK = "mk-0123456789";
const SECRET_VALUE = "kraken-private-key-Zq9XvB3nLw8RtY2pKd7sHf4M";
const KEY = JSON.stringify({ keyId: "K-provided-1", secret: SECRET_VALUE });

function setup(policy: ApprovalPolicy = approvalPolicy("default")) {
  const requests = new InMemoryOperatorRequests();
  const deps = { ...makeDeps(), requests, tasks: new InMemoryManualTasks() } as unknown as AppDeps;
  const run = (body: unknown) => executeEnvelope(body, ARN, { deps, env: {}, config: { policy } });
  return { deps, requests, run };
}

const provide = (extra: Partial<CommandEnvelope> = {}): CommandEnvelope => ({
  command: "keys provide",
  args: [TASK, "--stdin"],
  stdin: KEY,
  idempotencyKey: "key-00000001",
  ...extra,
});

describe("keys provide's envelope", () => {
  it("carries the key as stdin, the line saying --stdin: never the file's path, never the value", () => {
    const envelope = envelopeOf(keysProvide, [TASK], { "from-file": "/home/ops/kraken-key.json" }, KEY);

    expect(envelope).toMatchObject({ command: "keys provide", args: [TASK, "--stdin"], stdin: KEY });
    expect(JSON.stringify({ ...envelope, stdin: undefined })).not.toContain("kraken-key.json");
    expect(envelope.args.join(" ")).not.toContain(SECRET_VALUE);
  });

  it("the CLI reads --from-file in its shell and sends the content, not the path, to the operator API", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "keyshift-provide-")), "key.json");
    writeFileSync(file, KEY, { mode: 0o600 });
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        bodies.push(body);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ code: 0, events: [{ t: "result", human: "stored", machine: {} }] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let stderr = "";
    try {
      const code = await runKeyshift(["keys", "provide", TASK, "--from-file", file], {
        env: {
          AWS_REGION: "eu-west-1",
          AWS_ACCESS_KEY_ID: "AKIAOPERATORA0000000",
          AWS_SECRET_ACCESS_KEY: "operator-a-secret",
          KEYSHIFT_OPERATOR_API_URL: url,
        },
        stdout: { write: () => undefined },
        stderr: { write: (t: string) => (stderr += t) },
      });
      expect(code, stderr).toBe(0);
    } finally {
      server.close();
    }

    expect(bodies).toHaveLength(1);
    const sent = JSON.parse(bodies[0] as string) as CommandEnvelope;
    expect(sent).toMatchObject({ command: "keys provide", args: [TASK, "--stdin"], stdin: KEY });
    expect(bodies[0]).not.toContain(file);
    expect(stderr).not.toContain(SECRET_VALUE);
  });
});

describe("the operator plane never stores or repeats a key", () => {
  it("runs keys provide at once: a refusal names the task and not the key, and no request is stored", async () => {
    const { requests, run } = setup();

    const answer = await run(provide());

    expect(answer.code).toBe(1);
    expect(JSON.stringify(answer.events)).toContain(`no task ${TASK}`);
    expect(JSON.stringify(answer)).not.toContain(SECRET_VALUE);
    expect(await requests.list()).toEqual([]);
  });

  it("refuses a stage setting that would put keys provide under the two-person rule", () => {
    expect(() => approvalPolicy("force-revoke,keys provide")).toThrow(
      /cannot name keys provide: it hands over a key/,
    );
  });

  it("a policy that names it anyway is refused before anything is stored", async () => {
    const { requests, run } = setup({
      commands: new Set(["keys provide"]),
      singleOperator: false,
      ttlSeconds: 60,
    });

    const answer = await run(provide({ note: "please approve" }));

    expect(answer.code).toBe(64);
    expect(JSON.stringify(answer)).not.toContain(SECRET_VALUE);
    expect(await requests.list()).toEqual([]);
  });

  it("openRequest refuses an envelope that carries stdin, whatever command it names", async () => {
    const { deps, requests } = setup();
    const input = {
      kind: "approval" as const,
      command: "force-revoke",
      envelope: provide({ command: "force-revoke" }),
      idempotencyKey: "key-00000002",
      secretId: null,
      requester: `operator:${ARN}`,
      reason: "r",
    };

    await expect(openRequest(input, deps)).rejects.toThrow(/never as a stored request/);
    expect(await requests.list()).toEqual([]);
  });

  it("refuses stdin for a command that reads none, without echoing it (and stores nothing)", async () => {
    const { requests, run } = setup();

    const answer = await run(
      provide({ command: "force-revoke", args: ["keyshift/exchange/acme/trading", "--reason=r"] }),
    );

    expect(answer.code).toBe(64);
    expect(JSON.stringify(answer.events)).toContain("reads nothing on standard input");
    expect(JSON.stringify(answer)).not.toContain(SECRET_VALUE);
    expect(await requests.list()).toEqual([]);
  });

  it("refuses a --from-file line where the command runs: the key file is read only where it is typed", async () => {
    const { run } = setup();

    const answer = await run(provide({ args: [TASK, "--from-file=/etc/passwd"], stdin: undefined }));

    expect(answer.code).toBe(64);
    expect(JSON.stringify(answer.events)).toContain("standard input");
  });

  it("bounds stdin, naming the field and not the value", async () => {
    const { run } = setup();

    const answer = await run(provide({ stdin: SECRET_VALUE.repeat(500) }));

    expect(answer.code).toBe(1);
    expect(JSON.stringify(answer.events)).toContain("stdin");
    expect(JSON.stringify(answer)).not.toContain(SECRET_VALUE);
  });
});
