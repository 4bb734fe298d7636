import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defaultConsumers,
  enrollLocalSecret,
  provisionLocalSecret,
  registerConsumers,
} from "../../harness/local/scenario";
import { captureLambdaLogs } from "../../harness/local/secret-scan";
import { type LocalStack, operatorEnv, startLocalStack } from "../../harness/local/stack";
import { DynamoAuditLog } from "../../src/adapters/dynamodb/audit-log";
import { documentClient } from "../../src/adapters/dynamodb/client";
import { OPERATOR_REQUESTS_STREAM } from "../../src/core/operator/approvals";
import { keyshiftProcess } from "./support/keyshift-process";

const SECRET = "keyshift/exchange/acme-opapi/trading";

let stack: LocalStack;
let logs: ReturnType<typeof captureLambdaLogs>;
let audit: DynamoAuditLog;
beforeAll(async () => {
  logs = captureLambdaLogs();
  stack = await startLocalStack();
  audit = new DynamoAuditLog(
    documentClient({ region: stack.region, endpoint: stack.endpoints.dynamodb }),
    stack.tables.audit,
    { now: () => new Date() },
  );
  // Set up by keyshift's own role, without the operator API: a rotation stalled on a silent
  // consumer (settings straight into the core: a CLI enrollment's deadline is at least 60 s).
  const enrolled = await enrollLocalSecret(stack, {
    account: "acme-opapi",
    secretId: SECRET,
    settings: { deadlineSeconds: 3, minOverlapSeconds: 1 },
  });
  await registerConsumers(enrolled, defaultConsumers(SECRET, 1));
  const stalled = await keyshiftProcess(stack, ["rotate", SECRET, "--wait"]);
  expect(stalled.code).toBe(2);
}, 60_000);
afterAll(async () => {
  logs.restore();
  await stack.close();
});

/** The CLI as operator A or B: their own keys, KEYSHIFT_OPERATOR_API_URL set, and a forged actor. */
const as = (who: "a" | "b", ...args: string[]) =>
  keyshiftProcess(stack, args, {
    ...process.env,
    ...operatorEnv(stack, stack.operators[who]),
    KEYSHIFT_ACTOR: "operator:mallory",
  });

const activeKeys = () => stack.exchange.keys("acme-opapi").filter((k) => k.status === "active");

describe("the operator API with the two-person rule", () => {
  let requestId = "";

  it("opens a request as the signer's ARN, whatever KEYSHIFT_ACTOR says, and executes nothing", async () => {
    const opened = await as(
      "a",
      "force-revoke",
      SECRET,
      "--reason",
      "consumer retired",
      "--ticket",
      "OPS-7",
      "--json",
    );

    expect(opened.code).toBe(5);
    const { request } = JSON.parse(opened.stdout);
    requestId = request.requestId;
    expect(request).toMatchObject({
      command: "force-revoke",
      secretId: SECRET,
      requester: `operator:${stack.operators.a.arn}`,
      reason: "consumer retired",
      ticket: "OPS-7",
      status: "requested",
    });
    expect(activeKeys()).toHaveLength(2);
    const entries = await audit.list(OPERATOR_REQUESTS_STREAM);
    expect(entries.map((e) => [e.action, e.actor])).toEqual([
      ["approval-requested", `operator:${stack.operators.a.arn}`],
    ]);
    expect(JSON.stringify(entries)).not.toContain("mallory");
  });

  it("refuses an approval by the requester itself", async () => {
    const self = await as("a", "approvals", "approve", requestId);

    expect(self.code).toBe(1);
    expect(self.stderr).toContain("ApprovalRefusedError");
    expect(self.stderr).toContain("needs a different principal");
    expect(activeKeys()).toHaveLength(2);
  });

  it("executes an approved force-revoke once, audited with both principals", async () => {
    const approved = await as("b", "approvals", "approve", requestId, "--json");

    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ ledger: "revoked" });
    expect(activeKeys()).toHaveLength(1);
    const both = `operator:${stack.operators.a.arn} approved-by operator:${stack.operators.b.arn}`;
    const trail = await audit.list(SECRET);
    expect(trail.find((e) => e.action === "force-revoke-requested")?.actor).toBe(both);

    const again = await as("b", "approvals", "approve", requestId);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`was already executed by operator:${stack.operators.b.arn} at`);
    const list = JSON.parse((await as("a", "approvals", "list", "--json")).stdout);
    expect(list).toEqual([expect.objectContaining({ requestId, status: "executed", exitCode: 0 })]);
    expect(activeKeys()).toHaveLength(1);
  });

  it("enrolls from the file the CLI sent, once B approves A's request, audited with both", async () => {
    const FAST = "keyshift/exchange/acme-fast/trading";
    await provisionLocalSecret(stack, { account: "acme-fast", secretId: FAST });
    const config = "test/fixtures/enrollment/local-fast.yml";

    const opened = await as("a", "enroll", FAST, "--config", config, "--note", "new desk", "--json");
    expect(opened.code).toBe(5);
    const { request } = JSON.parse(opened.stdout);
    const approved = await as("b", "approvals", "approve", request.requestId, "--json");

    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ secretId: FAST, minOverlapSeconds: 1 });
    const both = `operator:${stack.operators.a.arn} approved-by operator:${stack.operators.b.arn}`;
    expect((await audit.list(FAST))[0]).toMatchObject({ action: "secret-enrolled", actor: both });
  });

  it("rotate --wait through the operator API: the API starts it, the shell follows it", async () => {
    const rotated = await as("a", "rotate", "keyshift/exchange/acme-fast/trading", "--wait", "--json");

    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toMatchObject({
      status: "SUCCEEDED",
      output: { result: { outcome: "revoked" } },
    });
    expect(rotated.stderr).toContain("started arn:");
  });

  it("rotate --compromised does not wait, but opens a review only a second principal signs off", async () => {
    const FAST = "keyshift/exchange/acme-fast/trading";
    const started = await as("a", "rotate", FAST, "--compromised", "--reason", "key in a paste");

    expect(started.code).toBe(0);
    const reviewId = /review (req-[0-9a-f]{16}) opened/.exec(started.stderr)?.[1] ?? "";
    expect(reviewId).not.toBe("");
    const self = await as("a", "approvals", "sign-off", reviewId);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain("a second principal must sign it off");
    const signed = await as("b", "approvals", "sign-off", reviewId, "--json");
    expect(signed.code).toBe(0);
    expect(JSON.parse(signed.stdout)).toMatchObject({
      kind: "review",
      command: "rotate --compromised",
      status: "signed-off",
      decidedBy: `operator:${stack.operators.b.arn}`,
    });
  });

  it("turns away a principal without the operator policy at the front door", async () => {
    const outsider = stack.iam.assumeRole("arn:aws:iam::000000000000:role/viewer-only", "viewer");
    const refused = await keyshiftProcess(stack, ["approvals", "approve", requestId], {
      ...process.env,
      ...operatorEnv(stack, outsider),
    });

    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain("refused this shell's AWS principal");
  });
});
