import {
  approveRequest,
  denyRequest,
  effectiveStatus,
  type OperatorRequest,
  signOffReview,
} from "../../core/operator/approvals";
import { shown, UsageError } from "../args";
import { command } from "../command";

const REQUEST_ID = /^req-[0-9a-f]{16}$/;

function requestIdArg(value: string): string {
  if (!REQUEST_ID.test(value)) {
    throw new UsageError(
      `<requestId> is req- and 16 hex digits as \`keyshift approvals list\` prints it, got ${shown(value)}`,
    );
  }
  return value;
}

function line(r: OperatorRequest, now: Date): string {
  const decided = r.decidedBy ? ` by ${r.decidedBy} at ${r.decidedAt}` : "";
  // What exactly runs once approved: the command line as the requester gave it.
  const what = [r.command, ...(r.envelope?.args ?? [])].join(" ");
  return `${r.requestId}\t${effectiveStatus(r, now)}${decided}\t${what}\t${r.requester}\t${r.reason}${r.ticket ? `\t${r.ticket}` : ""}`;
}

/** `approvals list`: every request and review, newest first, with who opened and who decided it. */
export const approvalsList = command({
  words: ["approvals", "list"],
  args: [],
  options: [],
  parse: () => undefined,
  async run({ deps, out }) {
    const now = deps.clock.now();
    const all = (await deps.requests.list()).map((r) => ({ ...r, status: effectiveStatus(r, now) }));
    out.result(all.map((r) => line(r, now)).join("\n") || "no requests", all);
    return 0;
  },
});

/** `approvals approve <requestId>`: a second principal approves, and the command executes once. */
export const approvalsApprove = command({
  words: ["approvals", "approve"],
  args: ["<requestId>"],
  options: [],
  parse: ([id = ""]) => requestIdArg(id),
  async run({ deps, out, actor, operator }, requestId) {
    if (!operator)
      throw new UsageError("approvals approve runs where the command executes (the operator API)");
    const { request, exitCode } = await approveRequest({ requestId, approver: actor }, deps, (r, joint) =>
      operator.execute(r, joint),
    );
    out.progress(
      `${request.requestId} approved by ${actor}; ${request.command} ${request.status} (exit ${exitCode})\n`,
    );
    return exitCode;
  },
});

/** `approvals deny <requestId>`: a second principal refuses it; nothing executes. */
export const approvalsDeny = command({
  words: ["approvals", "deny"],
  args: ["<requestId>"],
  options: [],
  parse: ([id = ""]) => requestIdArg(id),
  async run({ deps, out, actor }, requestId) {
    const request = await denyRequest({ requestId, principal: actor }, deps);
    out.result(`${request.requestId} denied: ${request.command} will not execute`, request);
    return 0;
  },
});

/** `approvals sign-off <reviewId>`: a second principal reviews an emergency rotation after the fact. */
export const approvalsSignOff = command({
  words: ["approvals", "sign-off"],
  args: ["<reviewId>"],
  options: [],
  parse: ([id = ""]) => requestIdArg(id),
  async run({ deps, out, actor }, requestId) {
    const review = await signOffReview({ requestId, principal: actor }, deps);
    out.result(`${review.requestId} signed off by ${actor}`, review);
    return 0;
  },
});
