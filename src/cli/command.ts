import type { AppDeps } from "../commons/deps";
import type { OperatorRequest } from "../core/operator/approvals";
import type { OptionName, OptionValues } from "./args";
import type { Output } from "./output";

/** What a command runs with, once its arguments are valid and the environment is loaded. */
export interface CommandContext {
  deps: AppDeps;
  out: Output;
  /** `operator:<the caller's ARN>` (STS GetCallerIdentity on its own credentials), for the audit trail. */
  actor: string;
  env: NodeJS.ProcessEnv;
  /** Everything on standard input until it closes (`keys provide --stdin`). */
  readStdin?: () => Promise<string>;
  /** How an approved request executes: the dispatcher's (src/cli/dispatch.ts), for `approvals approve`. */
  operator?: OperatorPlane;
}

export interface OperatorPlane {
  /** Runs the request's command as `actor` (both principals), its output into the running command's. */
  execute(request: OperatorRequest, actor: string): Promise<number>;
}

/** What a command that needs no AWS environment runs with (`offline: true`). */
export interface OfflineContext {
  out: Output;
  env: NodeJS.ProcessEnv;
}

interface CommandBase<A> {
  /** The command's words: `["consumers", "remove"]`. */
  words: string[];
  /** Its positional arguments, all required, as the usage shows them. */
  args: string[];
  /** The options it takes besides `--json` and `--help`. */
  options: OptionName[];
  /**
   * `files`: the files the command reads by the path its line names (the enrollment file), as the
   * CLI sent them to the operator API; absent in the CLI, which reads them from disk.
   */
  parse(args: string[], values: OptionValues, files?: Readonly<Record<string, string>>): A;
  /**
   * An argument this command did not expect is never echoed: `keys provide` takes a key from a
   * file or stdin only, and a key pasted on the command line must not reach a terminal log too.
   */
  neverEchoArgs?: boolean;
  /**
   * The secret the command hands over (`keys provide`: a key file or standard input), read in the
   * shell that typed the command. It travels to the operator API as the envelope's `stdin` alone —
   * the line sent says `--stdin`, never a path or a value — and the command reads it back as its
   * standard input. A command with one is never under the two-person rule: a request stores its
   * envelope (src/cli/dispatch.ts refuses the setting).
   */
  readSecret?(parsed: A, io: { readStdin?: () => Promise<string>; out: Output }): Promise<string>;
}

/**
 * One command. `parse` runs before any configuration is loaded and throws `UsageError` for
 * anything wrong on the command line, so a usage error is a usage error with or without an
 * environment; `run` does the work and returns the exit code. A command with `offline: true`
 * (it reads only local files) runs without the KEYSHIFT_* environment and gets no deps.
 */
export type CommandSpec<A> =
  | (CommandBase<A> & { offline?: false; run(ctx: CommandContext, parsed: A): Promise<number> })
  | (CommandBase<A> & { offline: true; run(ctx: OfflineContext, parsed: A): Promise<number> });

/** Erases a command's argument type for the command table (each spec is checked where it is defined). */
export function command<A>(spec: CommandSpec<A>): CommandSpec<unknown> {
  return spec as unknown as CommandSpec<unknown>;
}
