import type { AppDeps } from "../commons/deps";
import {
  type CommandEnvelope,
  DEFAULT_REQUEST_TTL_SECONDS,
  OPERATOR_REQUESTS_STREAM,
  openRequest,
} from "../core/operator/approvals";
import { type OptionValues, shown, splitCommandLine, UsageError } from "./args";
import type { CommandSpec } from "./command";
import { checkOptions, resolveCommand, WRITING_COMMANDS } from "./command-line";
import { COMMANDS } from "./commands";
import { EXIT, type Output } from "./output";

/** The commands that widen or weaken protection: under the two-person rule unless the stage says otherwise. */
export const APPROVAL_DEFAULT: readonly string[] = [
  "enroll",
  "register-consumer",
  "consumers register",
  "consumers remove",
  "force-revoke",
  "rollback",
  "revocations restore",
];

export interface ApprovalPolicy {
  commands: ReadonlySet<string>;
  /** The stage runs with one operator: the default set executes at once, each time audited as waived. */
  singleOperator: boolean;
  ttlSeconds: number;
}

/** The CLI run without the operator API (a shell with write rights, the local stack): no gate of its own. */
export const DIRECT_POLICY: ApprovalPolicy = {
  commands: new Set(),
  singleOperator: false,
  ttlSeconds: DEFAULT_REQUEST_TTL_SECONDS,
};

/**
 * The stage's setting (KEYSHIFT_APPROVAL_COMMANDS, serverless param `approvalCommands`): `default`
 * (APPROVAL_DEFAULT), `single-operator` (none, and every waived approval audited), or a comma
 * list drawn from APPROVAL_DEFAULT plus any other writing command. Anything else throws.
 */
export function approvalPolicy(setting: string, ttlSeconds = DEFAULT_REQUEST_TTL_SECONDS): ApprovalPolicy {
  const value = setting.trim();
  if (value === "default") return { commands: new Set(APPROVAL_DEFAULT), singleOperator: false, ttlSeconds };
  if (value === "single-operator") return { commands: new Set(), singleOperator: true, ttlSeconds };
  const names = value.split(",").map((n) => n.trim());
  const secret = names.filter(carriesSecret);
  if (secret.length > 0) {
    throw new Error(
      `KEYSHIFT_APPROVAL_COMMANDS cannot name ${secret.join(", ")}: it hands over a key, and a request ` +
        "stores its command until approved; a key is never stored (the manual task's claim is its gate)",
    );
  }
  const unknown = names.filter((n) => !WRITING_COMMANDS.has(n) || n.startsWith("approvals "));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(
      `KEYSHIFT_APPROVAL_COMMANDS must be default, single-operator or a comma list of ${APPROVAL_DEFAULT.join(", ")} ` +
        `(or other writing commands); unknown: ${unknown.map(shown).join(", ")}`,
    );
  }
  return { commands: new Set(names), singleOperator: false, ttlSeconds };
}

/** A command that hands over a secret on its standard input (`keys provide`): never a stored request. */
function carriesSecret(name: string): boolean {
  return COMMANDS.some((c) => c.words.join(" ") === name && c.readSecret !== undefined);
}

export interface DispatchContext {
  deps: AppDeps;
  env: NodeJS.ProcessEnv;
  policy: ApprovalPolicy;
}

/**
 * Executes one writing command for `actor` (`operator:<the authenticated ARN>`), the same way on
 * the operator API and in a CLI without one:
 * 1. The command line in the envelope is parsed by the command's own `parse` (a usage error is 64).
 * 2. A command the stage puts under the two-person rule opens a request and stops (exit 5).
 * 3. Otherwise it runs as the CLI would run it; a waived approval (single-operator) is audited first.
 * 4. An emergency (rotate --compromised, exposure rotate) that started opens a review a second
 *    principal signs off.
 */
export async function dispatch(
  envelope: CommandEnvelope,
  actor: string,
  ctx: DispatchContext,
  out: Output,
): Promise<number> {
  const { spec, parsed, values, name } = parseEnvelope(envelope);
  const reason = stringValue(values.reason) ?? envelope.note;
  // approvalPolicy refuses such a setting; a policy built otherwise still never stores a key.
  if (ctx.policy.commands.has(name) && spec.readSecret) {
    throw new UsageError(`${name} hands over a key: it is never put under the two-person rule`);
  }
  if (ctx.policy.commands.has(name)) {
    if (!reason?.trim()) {
      throw new UsageError(
        `${name} needs a second principal's approval: give --reason "..." (or --note "...") so the approver knows why`,
      );
    }
    const { request, created } = await openRequest(
      {
        kind: "approval",
        command: name,
        envelope,
        idempotencyKey: envelope.idempotencyKey,
        secretId: secretOf(spec, envelope),
        requester: actor,
        reason,
        ticket: stringValue(values.ticket) ?? null,
        ttlSeconds: ctx.policy.ttlSeconds,
      },
      ctx.deps,
    );
    return out.outcome(
      `${created ? "opened" : "already open:"} request ${request.requestId} (${name}); nothing is executed until ` +
        `a different principal runs \`keyshift approvals approve ${request.requestId}\` (expires ${request.expiresAt})`,
      { request },
      EXIT.awaitingApproval,
    );
  }
  if (ctx.policy.singleOperator && APPROVAL_DEFAULT.includes(name)) {
    await ctx.deps.audit.append({
      secretId: "_system",
      stream: OPERATOR_REQUESTS_STREAM,
      actor,
      action: "approval-waived",
      details: { command: name, secretId: secretOf(spec, envelope), setting: "single-operator" },
    });
  }
  const code = await run(spec, parsed, actor, ctx, out, envelope.stdin);
  // An emergency does not wait for a second principal; once it started (exit 0, or --wait's 2 and 4
  // for how it ended) it is reviewed after the fact, and the hygiene audit reports it until then.
  const emergency = name === "exposure rotate" || (name === "rotate" && values.compromised === true);
  if (emergency && [EXIT.ok, EXIT.stalled, EXIT.notRevoked].includes(code as 0)) {
    await openReview(
      envelope,
      name,
      name === "rotate" ? secretOf(spec, envelope) : null,
      actor,
      reason,
      ctx,
      out,
    );
  }
  return code;
}

/** Executes an approved request's command: no gate again, `actor` names both principals. */
export async function executeApproved(
  envelope: CommandEnvelope,
  actor: string,
  ctx: DispatchContext,
  out: Output,
): Promise<number> {
  const { spec, parsed } = parseEnvelope(envelope);
  return run(spec, parsed, actor, ctx, out);
}

function run(
  spec: CommandSpec<unknown>,
  parsed: unknown,
  actor: string,
  ctx: DispatchContext,
  out: Output,
  stdin?: string,
) {
  if (spec.offline) throw new UsageError(`${spec.words.join(" ")} does not run on the operator API`);
  const operator = {
    execute: (request: { envelope?: CommandEnvelope }, joint: string) => {
      if (!request.envelope) throw new UsageError("the request carries no command");
      return executeApproved(request.envelope, joint, ctx, out);
    },
  };
  // The key the CLI read where the command was typed is this command's standard input, and only its.
  const readStdin = stdin === undefined ? undefined : async () => stdin;
  return spec.run(
    { deps: ctx.deps, out, actor, env: ctx.env, operator, ...(readStdin ? { readStdin } : {}) },
    parsed,
  );
}

function parseEnvelope(envelope: CommandEnvelope) {
  const name = envelope.command;
  if (!WRITING_COMMANDS.has(name)) {
    throw new UsageError(
      `${shown(name)} is not a command the operator API executes (read-only commands read directly)`,
    );
  }
  const line = splitCommandLine([...name.split(" "), ...envelope.args]);
  const { spec, args } = resolveCommand(line.positionals);
  if (spec.words.join(" ") !== name) throw new UsageError(`the command line does not name ${shown(name)}`);
  checkOptions(spec, line.values);
  if (envelope.stdin !== undefined && !spec.readSecret) {
    throw new UsageError(
      `${name} reads nothing on standard input: the envelope's stdin is refused (not shown)`,
    );
  }
  const parsed = spec.parse(args, line.values, envelope.files);
  return { spec, parsed, values: line.values, name };
}

function secretOf(spec: CommandSpec<unknown>, envelope: CommandEnvelope): string | null {
  if (spec.args[0] !== "<secretId>") return null;
  return splitCommandLine(envelope.args).positionals[0] ?? null;
}

function stringValue(value: OptionValues[keyof OptionValues]): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

async function openReview(
  envelope: CommandEnvelope,
  name: string,
  secretId: string | null,
  actor: string,
  reason: string | undefined,
  ctx: DispatchContext,
  out: Output,
): Promise<void> {
  const { request } = await openRequest(
    {
      kind: "review",
      command: name === "rotate" ? "rotate --compromised" : name,
      idempotencyKey: envelope.idempotencyKey,
      secretId,
      requester: actor,
      reason: reason ?? "(no reason given)",
    },
    ctx.deps,
  );
  out.progress(
    `review ${request.requestId} opened: a second principal signs it off with \`keyshift approvals sign-off ${request.requestId}\`\n`,
  );
}
