import type { AppDeps } from "../commons/deps";
import { parseOrThrow } from "../commons/parse";
import * as z from "../commons/zod";
import { type CommandEnvelope, MAX_ENVELOPE_STDIN_CHARS } from "../core/operator/approvals";
import { type ApprovalPolicy, approvalPolicy, dispatch } from "./dispatch";
import { type OperatorApiAnswer, RecordedOutput } from "./recorded-output";

/** The envelope as the operator API accepts it: bounded, nothing else (who sends it is not in it). */
const envelopeSchema = z.strictObject({
  command: z
    .string()
    .check(z.regex(/^[a-z][a-z-]{0,30}( [a-z][a-z-]{0,30})?$/, "command must be a command's words")),
  args: z.array(z.string().check(z.maxLength(4096))).check(z.maxLength(32)),
  files: z.optional(z.record(z.string().check(z.maxLength(512)), z.string().check(z.maxLength(48 * 1024)))),
  // `keys provide`'s key (the command reads it as its standard input); the error names the field only
  stdin: z.optional(z.string().check(z.maxLength(MAX_ENVELOPE_STDIN_CHARS))),
  note: z.optional(z.string().check(z.maxLength(500))),
  idempotencyKey: z
    .string()
    .check(z.regex(/^[A-Za-z0-9-]{8,64}$/, "idempotencyKey must be 8-64 of A-Z a-z 0-9 -")),
});

export interface OperatorApiConfig {
  policy: ApprovalPolicy;
}

/**
 * The operator API's setting, read at cold start: KEYSHIFT_APPROVAL_COMMANDS (required, no silent
 * default: the stage's serverless param `approvalCommands` defaults it to `default`) and
 * KEYSHIFT_APPROVAL_TTL_SECONDS (how long a request waits, default 24 h).
 */
export function loadOperatorApiConfig(env: NodeJS.ProcessEnv = process.env): OperatorApiConfig {
  const setting = env.KEYSHIFT_APPROVAL_COMMANDS;
  if (!setting)
    throw new Error("KEYSHIFT_APPROVAL_COMMANDS is required (default | single-operator | a comma list)");
  const ttl = env.KEYSHIFT_APPROVAL_TTL_SECONDS ?? "86400";
  if (!/^[0-9]{2,7}$/.test(ttl) || Number(ttl) < 60) {
    throw new Error(`KEYSHIFT_APPROVAL_TTL_SECONDS must be whole seconds from 60 to 9999999, got "${ttl}"`);
  }
  return { policy: approvalPolicy(setting, Number(ttl)) };
}

/**
 * Executes one envelope for the authenticated principal `callerArn` (the front door's
 * `authorizer.iam.userArn`): the actor is `operator:<callerArn>`, whatever the body says. Every
 * outcome — a usage error, a refusal, a failure — is the command's own output and exit code.
 */
export async function executeEnvelope(
  body: unknown,
  callerArn: string,
  ctx: { deps: AppDeps; env: NodeJS.ProcessEnv; config: OperatorApiConfig },
): Promise<OperatorApiAnswer> {
  const out = new RecordedOutput();
  try {
    const envelope: CommandEnvelope = parseOrThrow(envelopeSchema, body, "command envelope");
    const code = await dispatch(
      envelope,
      `operator:${callerArn}`,
      { deps: ctx.deps, env: ctx.env, policy: ctx.config.policy },
      out,
    );
    return { code, events: out.events };
  } catch (err) {
    return { code: out.fail(err), events: out.events };
  }
}
