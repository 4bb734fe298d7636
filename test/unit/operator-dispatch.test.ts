import { describe, expect, it } from "vitest";
import { InMemoryOperatorRequests } from "../../harness/memory";
import { approvalsList } from "../../src/cli/commands/approvals";
import { approvalPolicy } from "../../src/cli/dispatch";
import { executeEnvelope } from "../../src/cli/operator-api";
import { Output } from "../../src/cli/output";
import type { AppDeps } from "../../src/commons/deps";
import { OPERATOR_REQUESTS_STREAM } from "../../src/core/operator/approvals";
import { makeDeps } from "./fakes";

const ARN = "arn:aws:sts::000000000000:assumed-role/ops-a/alice";
const SECRET = "keyshift/exchange/acme/trading";

function setup(setting: string) {
  const base = makeDeps();
  const deps = { ...base, requests: new InMemoryOperatorRequests() } as unknown as AppDeps;
  const run = (body: unknown) =>
    executeEnvelope(body, ARN, { deps, env: {}, config: { policy: approvalPolicy(setting) } });
  return { base, deps, run };
}

const envelope = (command: string, args: string[], extra: Record<string, unknown> = {}) => ({
  command,
  args,
  idempotencyKey: "key-00000001",
  ...extra,
});

describe("the operator API's dispatcher", () => {
  it("opens a request for a command under the two-person rule, as the authenticated principal, and runs nothing", async () => {
    const { base, deps, run } = setup("default");

    const answer = await run(
      envelope("force-revoke", [SECRET, "--reason=consumer retired", "--ticket=OPS-1"]),
    );

    expect(answer.code).toBe(5);
    const [opened] = await deps.requests.list();
    expect(opened).toMatchObject({
      requester: `operator:${ARN}`,
      secretId: SECRET,
      ticket: "OPS-1",
      status: "requested",
    });
    expect(await base.audit.list(SECRET)).toEqual([]);
    // The same envelope again (a retried request) is the same request.
    expect((await run(envelope("force-revoke", [SECRET, "--reason=consumer retired"]))).code).toBe(5);
    expect(await deps.requests.list()).toHaveLength(1);
    // The approver sees the command line that will run, not only its name.
    let listed = "";
    const out = new Output(false, { write: (t: string) => (listed += t) }, { write: () => undefined });
    await approvalsList.run({ deps, out, actor: "", env: {} } as never, undefined);
    expect(listed).toContain(`requested\tforce-revoke ${SECRET} --reason=consumer retired --ticket=OPS-1\t`);
  });

  it("asks why before opening a request", async () => {
    const { run } = setup("default");
    const answer = await run(envelope("consumers remove", [SECRET, "engine"]));
    expect(answer.code).toBe(64);
    expect(JSON.stringify(answer.events)).toContain("--reason");
  });

  it("single-operator mode runs the command at once and audits the waived approval first", async () => {
    const { base, run } = setup("single-operator");

    const answer = await run(envelope("force-revoke", [SECRET, "--reason=alone tonight"]));

    // Nothing is enrolled in this empty world: the command itself ran, and refused.
    expect(answer.code).toBe(1);
    expect(JSON.stringify(answer.events)).toContain("SecretNotEnrolledError");
    const trail = await base.audit.list(OPERATOR_REQUESTS_STREAM);
    expect(trail.map((e) => [e.action, e.actor, e.details?.command])).toEqual([
      ["approval-waived", `operator:${ARN}`, "force-revoke"],
    ]);
  });

  it("executes only writing commands, and only envelopes of the documented shape", async () => {
    const { run } = setup("default");
    expect((await run(envelope("status", [SECRET]))).code).toBe(64);
    expect((await run({ ...envelope("rollback", [SECRET]), actor: "operator:mallory" })).code).toBe(1);
    expect((await run(envelope("force-revoke", [SECRET], { idempotencyKey: "x" }))).code).toBe(1);
  });

  it("reads the stage's setting strictly", () => {
    expect([...approvalPolicy("default").commands]).toContain("force-revoke");
    expect(approvalPolicy("single-operator")).toMatchObject({ singleOperator: true });
    expect([...approvalPolicy("force-revoke, rollback").commands]).toEqual(["force-revoke", "rollback"]);
    expect(() => approvalPolicy("force-revoke,status")).toThrow(/unknown: "status"/);
    expect(() => approvalPolicy("approvals approve")).toThrow();
  });
});
