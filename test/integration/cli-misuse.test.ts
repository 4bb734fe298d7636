/**
 * `keyshift misuse report` and `misuse ack` as an operator runs them, against the local stack
 * (issue 20): the consumers' usage arrives through the real heartbeat path; no exchange side is
 * stored yet (the hourly pulls are another deliverable), and the report says so per account rather
 * than reporting a clean bill.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedInstance } from "../../harness/local/consumers";
import {
  defaultConsumers,
  type Enrolled,
  enrollLocalSecret,
  registerConsumers,
} from "../../harness/local/scenario";
import { captureLambdaLogs } from "../../harness/local/secret-scan";
import { type LocalStack, startLocalStack } from "../../harness/local/stack";
import { keyshiftProcess } from "./support/keyshift-process";

let stack: LocalStack;
let enrolled: Enrolled;
let logs: ReturnType<typeof captureLambdaLogs>;

beforeAll(async () => {
  logs = captureLambdaLogs();
  stack = await startLocalStack({ seed: 20 });
  enrolled = await enrollLocalSecret(stack, { account: "misuse-cli" });
  const [spec] = defaultConsumers(enrolled.secretId, 1);
  if (!spec) throw new Error("no consumer spec");
  await registerConsumers(enrolled, [{ ...spec, instances: 1 }]);
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const instance = new SimulatedInstance(stack, spec, "misuse-cli-1", quiet);
  for (let i = 0; i < 3; i++) await instance.tick();
  await instance.stop(); // the last heartbeat carries what the last trade counted
}, 120_000);

afterAll(async () => {
  logs.restore();
  await stack.close();
});

const keyshift = (...args: string[]) => keyshiftProcess(stack, args);

describe("keyshift misuse", () => {
  it("report: the consumer side from the heartbeats, and per account that no exchange side is stored; exit 0", async () => {
    const run = await keyshift("misuse", "report", "--since", "2h", "--json");

    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.findings).toEqual([]);
    expect(report.accounts).toEqual([
      { account: "misuse-cli", secrets: [enrolled.secretId], exchangeSide: "none-stored" },
    ]);
    expect(report.consumerSide).toEqual([
      { secretId: enrolled.secretId, keyHours: expect.any(Number), requests: 3, authFailures: 0 },
    ]);
    const human = await keyshift("misuse", "report");
    expect(human.stdout).toContain("misuse-cli: no exchange-side activity stored");
    expect(human.stdout).toContain("consumers reported 3 request(s)");
  });

  it("ack: refuses an id that names no finding (exit 1, nothing audited) and bad arguments (exit 64)", async () => {
    const before = (await enrolled.deps.audit.list(enrolled.secretId)).length;

    const unknown = await keyshift("misuse", "ack", "mf_0123456789abcdef", "--reason", "seen it");
    const badId = await keyshift("misuse", "ack", "finding-1", "--reason", "seen it");
    const noReason = await keyshift("misuse", "ack", "mf_0123456789abcdef");
    const badUntil = await keyshift(
      "misuse",
      "ack",
      "mf_0123456789abcdef",
      "--reason",
      "r",
      "--until",
      "next week",
    );
    const badSince = await keyshift("misuse", "report", "--since", "yesterday");

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no finding mf_0123456789abcdef");
    expect([badId.code, noReason.code, badUntil.code, badSince.code]).toEqual([64, 64, 64, 64]);
    expect(badUntil.stderr).toContain("--until must be");
    expect((await enrolled.deps.audit.list(enrolled.secretId)).length).toBe(before);
  });
});
