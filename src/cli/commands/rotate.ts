import type { SFNClient } from "@aws-sdk/client-sfn";
import type { Deps } from "../../core/deps";
import { ledgerEntryId } from "../../core/tokens";
import { reasonOption, secretIdArg, stringOption, UsageError } from "../args";
import { type CommandContext, command } from "../command";
import { ConfigError, EXIT } from "../output";

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;
/** How often `--wait` asks for the execution's status, unless KEYSHIFT_POLL_MS says otherwise. */
const DEFAULT_POLL_MS = 2000;

export interface RotateInput {
  secretId: string;
  mode: "rotate" | "resume";
  wait: boolean;
  /** `rotate --compromised --reason`: an emergency rotation (see src/core/emergency/rules.ts). */
  compromised?: { reason: string };
}

function rotationCommand(mode: RotateInput["mode"]) {
  return command({
    words: [mode],
    args: ["<secretId>"],
    options: mode === "rotate" ? ["wait", "compromised", "reason"] : ["wait"],
    parse: ([secretId = ""], values): RotateInput => {
      if (values.reason !== undefined && values.compromised !== true) {
        throw new UsageError("--reason goes with --compromised (an emergency rotation records why)");
      }
      return {
        secretId: secretIdArg(secretId),
        mode,
        wait: values.wait === true,
        ...(values.compromised === true
          ? { compromised: { reason: reasonOption(stringOption(values, "reason"), "rotate --compromised") } }
          : {}),
      };
    },
    run: startRotation,
  });
}

/** `rotate <secretId> [--wait]`: a manual rotation through Step Functions StartExecution. */
export const rotate = rotationCommand("rotate");
/** `resume <secretId> [--wait]`: a new execution in mode "resume" adopts a stalled rotation. */
export const resume = rotationCommand("resume");

/** The state machine the CLI starts executions of, or the configuration error that names the fix. */
export function stateMachineArnOf(env: NodeJS.ProcessEnv, what: string): string {
  const stateMachineArn = env.KEYSHIFT_STATE_MACHINE_ARN ?? "";
  if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
    throw new ConfigError(
      `${what} needs KEYSHIFT_STATE_MACHINE_ARN (the stack output RotationStateMachineArn), got ` +
        `${stateMachineArn ? JSON.stringify(stateMachineArn.slice(0, 200)) : "nothing"}`,
    );
  }
  return stateMachineArn;
}

async function startRotation(ctx: CommandContext, input: RotateInput): Promise<number> {
  const { env, out } = ctx;
  const stateMachineArn = stateMachineArnOf(env, input.mode);
  const pollMs = pollInterval(env.KEYSHIFT_POLL_MS);
  // KEYSHIFT_ENDPOINT_STEPFUNCTIONS is set only by the local stack.
  const { SFNClient, StartExecutionCommand } = await import("@aws-sdk/client-sfn");
  const sfn = new SFNClient({ region: env.AWS_REGION, endpoint: env.KEYSHIFT_ENDPOINT_STEPFUNCTIONS });
  try {
    const execution = {
      secretId: input.secretId,
      trigger: "manual",
      mode: input.mode,
      ...(input.compromised ? { compromised: true, reason: input.compromised.reason } : {}),
    };
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(execution) }),
    );
    const executionArn = started.executionArn ?? "";
    if (!input.wait) {
      // An emergency on a secret whose lock a rotation holds escalates that rotation instead.
      const note = input.compromised
        ? ` (if a rotation holds ${input.secretId}, this escalates it: \`keyshift status ${input.secretId}\`)`
        : "";
      out.result(`started ${executionArn}${note}`, { executionArn, input: execution });
      return EXIT.ok;
    }
    return await follow(ctx, input, executionArn, sfn, pollMs);
  } finally {
    sfn.destroy();
  }
}

/**
 * `rotate|resume --wait` through the operator API: the API starts the execution (a Lambda cannot
 * wait out a rotation), and this shell follows it with DescribeExecution (the viewer's read).
 */
export async function followRotation(
  ctx: CommandContext,
  input: RotateInput,
  executionArn: string,
): Promise<number> {
  const { SFNClient } = await import("@aws-sdk/client-sfn");
  const sfn = new SFNClient({
    region: ctx.env.AWS_REGION,
    endpoint: ctx.env.KEYSHIFT_ENDPOINT_STEPFUNCTIONS,
  });
  try {
    return await follow(ctx, input, executionArn, sfn, pollInterval(ctx.env.KEYSHIFT_POLL_MS));
  } finally {
    sfn.destroy();
  }
}

async function follow(
  ctx: CommandContext,
  input: RotateInput,
  executionArn: string,
  sfn: SFNClient,
  pollMs: number,
): Promise<number> {
  const { out } = ctx;
  const { DescribeExecutionCommand } = await import("@aws-sdk/client-sfn");
  // Progress goes to stderr so that --json leaves exactly one object on stdout.
  out.progress(`started ${executionArn}; waiting`);
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== "RUNNING") {
      out.progress("\n");
      const ended = {
        executionArn,
        status: described.status,
        error: described.error,
        cause: described.cause,
        output: described.output ? (JSON.parse(described.output) as ExecutionOutput) : undefined,
      };
      return report(ctx, input, ended);
    }
    out.progress(".");
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

interface ExecutionOutput {
  result?: { outcome?: string; previousKeyId?: string };
  /** `rotate --compromised` escalated the rotation that held the lock (see core/emergency/escalation.ts). */
  escalated?: { rotationId?: string; keyIds?: string[]; followUpKeyId?: string };
}

interface Ended {
  executionArn: string;
  status: string | undefined;
  error: string | undefined;
  cause: string | undefined;
  output: ExecutionOutput | undefined;
}

/**
 * How an execution ended, and its exit code. An execution that succeeded has not necessarily
 * revoked the previous key: when RevokePrevious ran out of retries the workflow hands the key to
 * the sweeper and still ends in `Done`. That is not a success to report with exit 0.
 */
async function report({ deps, out }: CommandContext, input: RotateInput, ended: Ended): Promise<number> {
  const escalated = ended.output?.escalated;
  const what = escalated
    ? `emergency escalation of rotation ${escalated.rotationId ?? "?"} of ${input.secretId}`
    : `${input.mode === "resume" ? "resumed rotation" : "rotation"} of ${input.secretId}`;
  // The escalated rotation's current key was handed out before the report: it needs its own emergency.
  const followUp = escalated?.followUpKeyId
    ? `; the current key ${escalated.followUpKeyId} may be exposed too: run \`keyshift rotate ${input.secretId} --compromised --reason "..."\` now to replace it`
    : "";
  if (ended.status !== "SUCCEEDED") {
    const stalled = ended.error === "RotationStalled" || ended.error === "RotationParked";
    const code = stalled ? EXIT.stalled : EXIT.failed;
    const next = stalled
      ? `; the previous key is kept: \`keyshift status ${input.secretId}\`, then resume, force-revoke or rollback`
      : "";
    return out.outcome(
      `${what} ${ended.status}: ${ended.error ?? "?"} — ${ended.cause ?? ""}${next}`,
      ended,
      code,
    );
  }
  const result = ended.output?.result;
  if (result?.outcome === "revoked") {
    return out.outcome(
      `${what} succeeded: previous key ${result.previousKeyId} revoked${followUp}`,
      ended,
      EXIT.ok,
    );
  }
  if (result?.outcome === "disabled") {
    return out.outcome(
      `${what} succeeded: previous key ${result.previousKeyId} disabled (it no longer authenticates; ` +
        `removed after the grace, restorable until then: \`keyshift revocations list\`)${followUp}`,
      ended,
      EXIT.ok,
    );
  }
  const previous = await previousKeyLedger(deps, input.secretId, result?.previousKeyId);
  return out.outcome(
    `${what} ended with the new key current, but previous key ${result?.previousKeyId ?? "?"} was NOT revoked` +
      `${previous.summary}`,
    { ...ended, previousKey: previous.entry ?? null },
    EXIT.notRevoked,
  );
}

async function previousKeyLedger(deps: Deps, secretId: string, keyId: string | undefined) {
  const settings = keyId ? await deps.store.getSettings(secretId) : undefined;
  const entry =
    settings && keyId ? await deps.ledger.get(ledgerEntryId(settings.exchangeAccount, keyId)) : undefined;
  if (!entry) return { entry, summary: `: see \`keyshift status ${secretId}\`` };
  const operator = entry.needsOperator
    ? `; it NEEDS AN OPERATOR: fix the cause, then \`keyshift revocations retry ${entry.entryId}\``
    : "; the sweeper keeps retrying it (`keyshift revocations list`)";
  return {
    entry,
    summary:
      `: ledger entry ${entry.entryId} is ${entry.status} after ${entry.attempts} attempt(s)` +
      `${entry.lastError ? ` (last error: ${entry.lastError})` : ""}${operator}`,
  };
}

function pollInterval(value: string | undefined): number {
  if (value === undefined) return DEFAULT_POLL_MS;
  if (!/^[0-9]{1,6}$/.test(value) || Number(value) < 10) {
    throw new ConfigError(
      `KEYSHIFT_POLL_MS must be a whole number of milliseconds from 10 to 999999, got "${value}"`,
    );
  }
  return Number(value);
}
