import { createHash } from "node:crypto";
import { ApprovalRefusedError, InvalidInputError } from "../errors";
import type { AuditLog, Clock, OperatorRequests } from "../ports";
import type { CommandEnvelope } from "./envelope";

export { type CommandEnvelope, MAX_ENVELOPE_STDIN_CHARS } from "./envelope";

/** The audit chain of the operator plane's requests and reviews (no secret's chain: enroll has none yet). */
export const OPERATOR_REQUESTS_STREAM = "_operator-requests";
/** How long a request waits for its second principal unless the stage says otherwise. */
export const DEFAULT_REQUEST_TTL_SECONDS = 24 * 3600;

export type RequestKind = "approval" | "review";
/**
 * approval: requested → approved → executed | failed, or requested → denied | expired.
 * review (after an emergency that did not wait): review-open → signed-off.
 */
export type RequestStatus =
  | "requested"
  | "approved"
  | "executed"
  | "failed"
  | "denied"
  | "expired"
  | "review-open"
  | "signed-off";

export interface OperatorRequest {
  requestId: string;
  kind: RequestKind;
  /** The command's words: `force-revoke`, `consumers remove`, `rotate --compromised`. */
  command: string;
  /** What runs once approved (approvals only). */
  envelope?: CommandEnvelope;
  secretId: string | null;
  /** `operator:<ARN>` of the principal that opened it. */
  requester: string;
  reason: string;
  ticket: string | null;
  createdAt: string;
  /** Approvals only: after this, approving is refused and the request reads `expired`. */
  expiresAt: string | null;
  status: RequestStatus;
  /** Who approved, denied or signed off, and when. */
  decidedBy?: string;
  decidedAt?: string;
  executedAt?: string;
  exitCode?: number;
}

/** The actor of everything an approved command writes: both principals, requester first. */
export function jointActor(requester: string, approver: string): string {
  return `${requester} approved-by ${approver}`;
}

/** A retried open (same principal, same idempotency key) is the same request, never a second one. */
export function requestIdFor(requester: string, idempotencyKey: string): string {
  return `req-${createHash("sha256").update(`${requester}\n${idempotencyKey}`).digest("hex").slice(0, 16)}`;
}

export type ApprovalDeps = { requests: OperatorRequests; audit: AuditLog; clock: Clock };

export interface OpenInput {
  kind: RequestKind;
  command: string;
  envelope?: CommandEnvelope;
  idempotencyKey: string;
  secretId: string | null;
  requester: string;
  reason: string;
  ticket?: string | null;
  /** Approvals only. */
  ttlSeconds?: number;
}

/**
 * Opens a request (or a review) instead of executing.
 * Input: the command, who asks and why. Output: the request, and whether this call created it.
 * 1. The id comes from the requester and the idempotency key: a retried open finds its request.
 * 2. Stored with a conditional write (one record per id).
 * 3. Audited on the operator plane's own chain: who asked, what, why, which ticket.
 */
export async function openRequest(
  input: OpenInput,
  deps: ApprovalDeps,
): Promise<{ request: OperatorRequest; created: boolean }> {
  if (!input.reason.trim()) throw new InvalidInputError(`${input.command} needs a reason for the approver`);
  // A request is stored, listed and shown to the approver: a key handed over on stdin must never be.
  if (input.envelope?.stdin !== undefined) {
    throw new InvalidInputError(
      `${input.command} carries a key on its standard input: it runs at once or not at all, never as a stored request`,
    );
  }
  const now = deps.clock.now();
  const request: OperatorRequest = {
    requestId: requestIdFor(input.requester, input.idempotencyKey),
    kind: input.kind,
    command: input.command,
    ...(input.envelope ? { envelope: input.envelope } : {}),
    secretId: input.secretId,
    requester: input.requester,
    reason: input.reason,
    ticket: input.ticket ?? null,
    createdAt: now.toISOString(),
    expiresAt:
      input.kind === "approval"
        ? new Date(now.getTime() + (input.ttlSeconds ?? DEFAULT_REQUEST_TTL_SECONDS) * 1000).toISOString()
        : null,
    status: input.kind === "approval" ? "requested" : "review-open",
  };
  if (!(await deps.requests.create(request))) {
    const existing = await deps.requests.get(request.requestId);
    if (existing) return { request: existing, created: false };
  }
  await auditRequest(
    deps,
    request,
    request.requester,
    input.kind === "approval" ? "approval-requested" : "review-opened",
  );
  return { request, created: true };
}

/** The request as it stands now: a request past its expiry reads `expired` even before anyone wrote it. */
export function effectiveStatus(request: OperatorRequest, now: Date): RequestStatus {
  if (
    request.status === "requested" &&
    request.expiresAt !== null &&
    now.toISOString() >= request.expiresAt
  ) {
    return "expired";
  }
  return request.status;
}

/**
 * Approves a request and executes its command, exactly once.
 * Input: the request id, the approving principal, how to execute (the operator API's dispatcher).
 * Output: the request as it ended and the command's exit code.
 * 1. Refused for an unknown request, by the requester, past the expiry (recorded `expired`), or on
 *    a request no longer waiting ("already executed by X at T").
 * 2. requested → approved is one conditional write: of two approvers racing, one wins; the other
 *    is answered from the record.
 * 3. Audited (`approval-granted`), then executed with both principals as the actor.
 * 4. approved → executed (its exit code), or → failed when it threw; the error goes to the caller.
 */
export async function approveRequest(
  input: { requestId: string; approver: string },
  deps: ApprovalDeps,
  execute: (request: OperatorRequest, actor: string) => Promise<number>,
): Promise<{ request: OperatorRequest; exitCode: number }> {
  const request = await waitingRequest(input.requestId, input.approver, "approve", deps);
  const decidedAt = deps.clock.now().toISOString();
  if (
    !(await deps.requests.transition(request.requestId, "requested", {
      status: "approved",
      decidedBy: input.approver,
      decidedAt,
    }))
  ) {
    throw alreadyDecided((await deps.requests.get(request.requestId)) ?? request);
  }
  await auditRequest(deps, request, input.approver, "approval-granted");
  let exitCode: number;
  try {
    exitCode = await execute(request, jointActor(request.requester, input.approver));
  } catch (err) {
    await deps.requests.transition(request.requestId, "approved", {
      status: "failed",
      executedAt: deps.clock.now().toISOString(),
      exitCode: 1,
    });
    throw err;
  }
  const executedAt = deps.clock.now().toISOString();
  const ended = { status: exitCode === 0 ? "executed" : "failed", executedAt, exitCode } as const;
  await deps.requests.transition(request.requestId, "approved", ended);
  return { request: { ...request, decidedBy: input.approver, decidedAt, ...ended }, exitCode };
}

/** Denies a waiting request: requested → denied, by a principal other than the requester. */
export async function denyRequest(
  input: { requestId: string; principal: string },
  deps: ApprovalDeps,
): Promise<OperatorRequest> {
  const request = await waitingRequest(input.requestId, input.principal, "deny", deps);
  const decided = {
    status: "denied",
    decidedBy: input.principal,
    decidedAt: deps.clock.now().toISOString(),
  } as const;
  if (!(await deps.requests.transition(request.requestId, "requested", decided))) {
    throw alreadyDecided((await deps.requests.get(request.requestId)) ?? request);
  }
  await auditRequest(deps, request, input.principal, "approval-denied");
  return { ...request, ...decided };
}

/** Signs off an emergency's review: review-open → signed-off, by a principal other than the one who ran it. */
export async function signOffReview(
  input: { requestId: string; principal: string },
  deps: ApprovalDeps,
): Promise<OperatorRequest> {
  const review = await deps.requests.get(input.requestId);
  if (review?.kind !== "review") throw new ApprovalRefusedError(`no review ${input.requestId}`);
  if (review.status !== "review-open") throw alreadyDecided(review);
  if (review.requester === input.principal) {
    throw new ApprovalRefusedError(
      `${input.requestId} was opened by ${input.principal}: a second principal must sign it off`,
    );
  }
  const decided = {
    status: "signed-off",
    decidedBy: input.principal,
    decidedAt: deps.clock.now().toISOString(),
  } as const;
  if (!(await deps.requests.transition(review.requestId, "review-open", decided))) {
    throw alreadyDecided((await deps.requests.get(review.requestId)) ?? review);
  }
  await auditRequest(deps, review, input.principal, "review-signed-off");
  return { ...review, ...decided };
}

async function waitingRequest(
  requestId: string,
  principal: string,
  verb: "approve" | "deny",
  deps: ApprovalDeps,
): Promise<OperatorRequest> {
  const request = await deps.requests.get(requestId);
  if (request?.kind !== "approval") throw new ApprovalRefusedError(`no request ${requestId}`);
  if (request.status !== "requested") throw alreadyDecided(request);
  if (request.requester === principal) {
    throw new ApprovalRefusedError(
      `${requestId} was requested by ${principal}: the two-person rule needs a different principal to ${verb} it`,
    );
  }
  if (effectiveStatus(request, deps.clock.now()) === "expired") {
    if (await deps.requests.transition(requestId, "requested", { status: "expired" })) {
      await auditRequest(deps, request, principal, "approval-expired");
    }
    throw new ApprovalRefusedError(`${requestId} expired at ${request.expiresAt}: open a new request`);
  }
  return request;
}

function alreadyDecided(request: OperatorRequest): ApprovalRefusedError {
  const by = `${request.decidedBy ?? "?"} at ${request.executedAt ?? request.decidedAt ?? "?"}`;
  const said: Record<RequestStatus, string> = {
    requested: "is still waiting",
    approved: `was already approved by ${by} and is executing`,
    executed: `was already executed by ${by}`,
    failed: `was already executed by ${by} and failed (exit ${request.exitCode ?? "?"})`,
    denied: `was denied by ${by}`,
    expired: `expired at ${request.expiresAt}`,
    "review-open": "is still open",
    "signed-off": `was already signed off by ${by}`,
  };
  return new ApprovalRefusedError(`${request.requestId} ${said[request.status]}`);
}

async function auditRequest(
  deps: ApprovalDeps,
  request: OperatorRequest,
  actor: string,
  action: string,
): Promise<void> {
  await deps.audit.append({
    secretId: "_system",
    stream: OPERATOR_REQUESTS_STREAM,
    actor,
    action,
    details: {
      requestId: request.requestId,
      command: request.command,
      secretId: request.secretId,
      requester: request.requester,
      reason: request.reason,
      ticket: request.ticket,
    },
  });
}
