import type { AppDeps } from "../commons/deps";
import type { OptionName, OptionValues } from "./args";
import type { Output } from "./output";

/** What a command runs with, once its arguments are valid and the environment is loaded. */
export interface CommandContext {
  deps: AppDeps;
  out: Output;
  /** `operator:<KEYSHIFT_ACTOR or $USER>`, for the audit trail. */
  actor: string;
  env: NodeJS.ProcessEnv;
}

/**
 * One command. `parse` runs before any configuration is loaded and throws `UsageError` for
 * anything wrong on the command line, so a usage error is a usage error with or without an
 * environment; `run` does the work and returns the exit code.
 */
export interface CommandSpec<A> {
  /** The command's words: `["consumers", "remove"]`. */
  words: string[];
  /** Its positional arguments, all required, as the usage shows them. */
  args: string[];
  /** The options it takes besides `--json` and `--help`. */
  options: OptionName[];
  parse(args: string[], values: OptionValues): A;
  run(ctx: CommandContext, parsed: A): Promise<number>;
}

/** Erases a command's argument type for the command table (each spec is checked where it is defined). */
export function command<A>(spec: CommandSpec<A>): CommandSpec<unknown> {
  return spec as unknown as CommandSpec<unknown>;
}
