/**
 * The two-person rule in the simulation: the operator actor's commands that widen or weaken
 * protection open a request (the real `openRequest`), and an approver acts on it — on time, late
 * (after the expiry), twice, by the requester itself, or by denying it. The command executes only
 * through the real `approveRequest`, which calls back into the world to run it.
 *
 * The oracle does not ask the approvals code anything: the world writes down, before each call,
 * who asked to approve what and when (its own clock, its own expiry), and the callback that runs
 * the command checks those notes — a run with no approve call by a second principal before the
 * world's expiry, or a second run of one request, is a violation.
 */
import { approveRequest, denyRequest, openRequest } from "../../src/core/operator/approvals";
import { InMemoryOperatorRequests } from "../memory";
import type { Executions } from "./executions";
import { type OperatorCommand, runOperator } from "./operator";
import type { Rng } from "./rng";
import type { World } from "./world";

/** The commands the stage's default puts under the two-person rule, as the operator actor runs them. */
export const GATED: ReadonlySet<OperatorCommand> = new Set<OperatorCommand>([
  "force-revoke",
  "rollback",
  "restore",
  "register",
  "remove",
  "re-enroll",
]);

const PRINCIPALS = [
  "operator:arn:aws:sts::000000000000:assumed-role/sim-ops/alice",
  "operator:arn:aws:sts::000000000000:assumed-role/sim-ops/bob",
  "operator:arn:aws:sts::000000000000:assumed-role/sim-ops/carol",
] as const;
/** Short enough that a late approver meets it within a run. */
const TTL_SECONDS = 7200;

interface Note {
  requester: string;
  expiresAtMs: number;
  /** Every approve call, noted by the world before it is made. */
  approvals: { who: string; atMs: number }[];
  runs: number;
}

interface Book {
  requests: InMemoryOperatorRequests;
  notes: Map<string, Note>;
  counts: Record<string, number>;
}

const books = new WeakMap<World, Book>();

function bookOf(world: World): Book {
  let book = books.get(world);
  if (!book) {
    book = { requests: new InMemoryOperatorRequests(), notes: new Map(), counts: {} };
    books.set(world, book);
  }
  return book;
}

/** What the approvals did in this run (for the report): opened, executed, refused by kind. */
export function approvalCounts(world: World): Record<string, number> {
  return { ...bookOf(world).counts };
}

const count = (book: Book, what: string) => {
  book.counts[what] = (book.counts[what] ?? 0) + 1;
};

/** A refusal, by what it said (for the report). */
const refusal = (err: Error): string =>
  `refused:${/needs a different principal/.test(err.message) ? "by-requester" : /expired/.test(err.message) ? "expired" : /already executed|already approved/.test(err.message) ? "twice" : /denied/.test(err.message) ? "denied" : err.name}`;

/** Opens the request for `cmd` and spawns the approver that decides it. */
export async function requestApproval(
  world: World,
  execs: Executions,
  rng: Rng,
  cmd: OperatorCommand,
  secretId: string,
): Promise<string> {
  const book = bookOf(world);
  const deps = { requests: book.requests, audit: world.raw.audit, clock: world.raw.clock };
  const requester = rng.pick([...PRINCIPALS]);
  const { request } = await openRequest(
    {
      kind: "approval",
      command: cmd,
      idempotencyKey: `sim-${world.nextSerial()}`,
      secretId,
      requester,
      reason: `sim: ${cmd}`,
      ttlSeconds: TTL_SECONDS,
    },
    deps,
  );
  count(book, "opened");
  const note: Note = {
    requester,
    expiresAtMs: world.raw.clock.now().getTime() + TTL_SECONDS * 1000,
    approvals: [],
    runs: 0,
  };
  book.notes.set(request.requestId, note);
  const other = rng.pick(PRINCIPALS.filter((p) => p !== requester));
  const third = rng.pick(PRINCIPALS.filter((p) => p !== requester && p !== other));
  const plan = rng.weighted({ onTime: 5, byRequester: 2, late: 2, twice: 2, deny: 1 });
  const actor = `approver:${request.requestId}`;

  const approve = async (who: string) => {
    note.approvals.push({ who, atMs: world.raw.clock.now().getTime() });
    try {
      const { exitCode } = await approveRequest(
        { requestId: request.requestId, approver: who },
        deps,
        (_r, as) => execute(as),
      );
      count(book, "approved");
      return `approved by ${who.split("/").at(-1)}: exit ${exitCode}`;
    } catch (err) {
      count(book, refusal(err as Error));
      return `approve by ${who.split("/").at(-1)} -> ${(err as Error).name}: ${(err as Error).message.slice(0, 160)}`;
    }
  };

  // The world's oracle, run where the command would execute: from its own notes only.
  const execute = async (as: string): Promise<number> => {
    note.runs += 1;
    const seconded = note.approvals.some((a) => a.who !== note.requester && a.atMs < note.expiresAtMs);
    if (!seconded) {
      world.violate({
        invariant: "A1",
        signature: `A1: ${cmd} executed without a second principal's approval in time`,
        message: `request ${request.requestId} (${cmd} ${secretId}) by ${note.requester} ran with approvals ${JSON.stringify(note.approvals)}`,
      });
    }
    if (note.runs > 1) {
      world.violate({
        invariant: "A1",
        signature: `A1: ${cmd} executed twice`,
        message: `request ${request.requestId} (${cmd} ${secretId}) ran ${note.runs} times`,
      });
    }
    count(book, "executed");
    world.sched.log(
      actor,
      `${cmd} ${secretId} as ${as.length} chars -> ${await runOperator(world, execs, rng, cmd, secretId, undefined, as)}`,
    );
    return 0;
  };

  world.sched.spawn(actor, async () => {
    if (plan === "late") {
      await world.sched.sleep(actor, TTL_SECONDS + rng.range(1, 600), "past the expiry");
      world.sched.log(actor, await approve(other));
      return;
    }
    await world.sched.sleep(actor, rng.range(60, 3000), "until the approver looks");
    if (plan === "byRequester") world.sched.log(actor, await approve(requester));
    if (plan === "deny") {
      note.approvals.push({ who: `deny:${other}`, atMs: world.raw.clock.now().getTime() });
      const out = await denyRequest({ requestId: request.requestId, principal: other }, deps).then(
        () => "denied",
        (err: Error) => {
          count(book, `deny-${refusal(err)}`);
          return `deny -> ${err.name}: ${err.message.slice(0, 160)}`;
        },
      );
      if (out === "denied") count(book, "denied");
      world.sched.log(actor, out);
      // Then someone approves anyway: it must be refused.
      world.sched.log(actor, await approve(third));
      return;
    }
    world.sched.log(actor, await approve(other));
    if (plan === "twice") {
      await world.sched.sleep(actor, rng.range(1, 600), "until the second approval");
      world.sched.log(actor, await approve(rng.chance(0.5) ? other : third));
    }
  });
  return `request ${request.requestId} opened by ${requester.split("/").at(-1)} (approver plan: ${plan})`;
}
