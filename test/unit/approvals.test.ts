import { describe, expect, it } from "vitest";
import { FakeClock, InMemoryAuditLog, InMemoryOperatorRequests } from "../../harness/memory";
import { ApprovalRefusedError } from "../../src/core/errors";
import {
  approveRequest,
  type CommandEnvelope,
  denyRequest,
  jointActor,
  OPERATOR_REQUESTS_STREAM,
  openRequest,
  signOffReview,
} from "../../src/core/operator/approvals";

const A = "operator:arn:aws:sts::000000000000:assumed-role/ops-a/alice";
const B = "operator:arn:aws:sts::000000000000:assumed-role/ops-b/bob";
const envelope: CommandEnvelope = {
  command: "force-revoke",
  args: ["keyshift/exchange/x", "--reason=retired"],
  idempotencyKey: "key-00000001",
};

function world() {
  const clock = new FakeClock();
  const deps = { requests: new InMemoryOperatorRequests(), audit: new InMemoryAuditLog(clock), clock };
  const executed: string[] = [];
  const execute = async (_r: unknown, actor: string) => {
    executed.push(actor);
    return 0;
  };
  const open = () =>
    openRequest(
      {
        kind: "approval",
        command: "force-revoke",
        envelope,
        idempotencyKey: envelope.idempotencyKey,
        secretId: "keyshift/exchange/x",
        requester: A,
        reason: "retired",
        ticket: "OPS-1",
      },
      deps,
    );
  return { clock, deps, executed, execute, open };
}

describe("approvals: the two-person rule", () => {
  it("executes an approved request once, as both principals, and answers a second approve with who and when", async () => {
    const w = world();
    const { request } = await w.open();

    const approved = await approveRequest({ requestId: request.requestId, approver: B }, w.deps, w.execute);

    expect(approved).toMatchObject({ exitCode: 0, request: { status: "executed", decidedBy: B } });
    expect(w.executed).toEqual([jointActor(A, B)]);
    const again = approveRequest({ requestId: request.requestId, approver: B }, w.deps, w.execute);
    await expect(again).rejects.toThrow(`was already executed by ${B} at 2030-01-01T00:00:00.000Z`);
    expect(w.executed).toHaveLength(1);
    const trail = await w.deps.audit.list(OPERATOR_REQUESTS_STREAM);
    expect(trail.map((e) => [e.action, e.actor])).toEqual([
      ["approval-requested", A],
      ["approval-granted", B],
    ]);
  });

  it("refuses the requester's own approval and denial", async () => {
    const w = world();
    const { request } = await w.open();

    await expect(
      approveRequest({ requestId: request.requestId, approver: A }, w.deps, w.execute),
    ).rejects.toThrow(ApprovalRefusedError);
    await expect(denyRequest({ requestId: request.requestId, principal: A }, w.deps)).rejects.toThrow(
      /needs a different principal/,
    );
    expect(w.executed).toEqual([]);
    expect((await w.deps.requests.get(request.requestId))?.status).toBe("requested");
  });

  it("refuses an approval after the expiry and records the request expired", async () => {
    const w = world();
    const { request } = await w.open();
    w.clock.advance(24 * 3600);

    await expect(
      approveRequest({ requestId: request.requestId, approver: B }, w.deps, w.execute),
    ).rejects.toThrow(/expired at 2030-01-02T00:00:00.000Z/);
    expect(w.executed).toEqual([]);
    expect((await w.deps.requests.get(request.requestId))?.status).toBe("expired");
  });

  it("one of two approvers racing wins; a denied request never executes", async () => {
    const w = world();
    const { request } = await w.open();
    const C = "operator:arn:aws:sts::000000000000:assumed-role/ops-c/carol";

    const both = await Promise.allSettled([
      approveRequest({ requestId: request.requestId, approver: B }, w.deps, w.execute),
      approveRequest({ requestId: request.requestId, approver: C }, w.deps, w.execute),
    ]);

    expect(both.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(w.executed).toHaveLength(1);
    const second = await openRequest(
      {
        ...{ kind: "approval", command: "rollback", envelope, secretId: null, requester: A, reason: "r" },
        idempotencyKey: "key-00000002",
      },
      w.deps,
    );
    await denyRequest({ requestId: second.request.requestId, principal: B }, w.deps);
    await expect(
      approveRequest({ requestId: second.request.requestId, approver: C }, w.deps, w.execute),
    ).rejects.toThrow(`was denied by ${B}`);
    expect(w.executed).toHaveLength(1);
  });

  it("a retried open is the same request; a review is signed off by another principal only", async () => {
    const w = world();
    const first = await w.open();
    const retried = await w.open();
    expect(retried).toMatchObject({ created: false, request: { requestId: first.request.requestId } });

    const { request: review } = await openRequest(
      {
        kind: "review",
        command: "rotate --compromised",
        idempotencyKey: "key-00000003",
        secretId: "s",
        requester: A,
        reason: "leak",
      },
      w.deps,
    );
    expect(review.status).toBe("review-open");
    await expect(signOffReview({ requestId: review.requestId, principal: A }, w.deps)).rejects.toThrow(
      /a second principal must sign it off/,
    );
    expect(await signOffReview({ requestId: review.requestId, principal: B }, w.deps)).toMatchObject({
      status: "signed-off",
      decidedBy: B,
    });
  });
});
