import { type OptionValues, shown, splitCommandLine, UsageError } from "./args";
import type { CommandSpec } from "./command";
import { COMMANDS } from "./commands";
import { ConfigError, EXIT, Output, type Sink } from "./output";
import { USAGE } from "./usage";

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: Sink;
  stderr: Sink;
  /** Standard input until it closes; the process's own unless given (tests). */
  readStdin?: () => Promise<string>;
}

async function processStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The whole CLI, minus the process: parse and validate the command line, then load the
 * configuration, then run the command. The order matters: a wrong command line is a usage error
 * (64) whether or not the environment is there; only a valid command needs it (78 when missing),
 * and an offline one (`misuse replay`) never does.
 */
export async function runKeyshift(argv: string[], io: CliIo): Promise<number> {
  // Decided before parsing, so that even a usage error is one JSON object when --json was asked for.
  const json = argv.some((a) => a === "--json" || a.startsWith("--json="));
  const out = new Output(json, io.stdout, io.stderr);
  try {
    const line = splitCommandLine(argv);
    if (line.values.help || line.positionals[0] === "help") {
      io.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    const { spec, args } = resolveCommand(line.positionals);
    checkOptions(spec, line.values);
    const parsed = spec.parse(args, line.values);
    if (spec.offline) return await spec.run({ out, env: io.env }, parsed);
    // Loaded only for a command that runs: the SDK clients and zod are most of the start-up time,
    // and `--help` or a usage error should not wait for them.
    const config = await configFrom(io.env);
    const { buildDeps } = await import("../commons/deps");
    const deps = buildDeps(config);
    // The authenticated principal, from the caller's own credentials: never a name someone typed.
    const { callerIdentity } = await import("../adapters/caller-identity");
    const identity = await callerIdentity({
      region: config.AWS_REGION,
      endpoint: config.KEYSHIFT_ENDPOINT_STS,
    }).catch((err: unknown) => {
      // Not knowing who calls is a configuration problem of this shell (exit 78), not a failure.
      throw new ConfigError((err as Error).message);
    });
    const actor = `operator:${identity.arn}`;
    return await spec.run({ deps, out, actor, env: io.env, readStdin: io.readStdin ?? processStdin }, parsed);
  } catch (err) {
    return out.fail(err);
  }
}

function resolveCommand(positionals: string[]): { spec: CommandSpec<unknown>; args: string[] } {
  const [first, second] = positionals;
  if (first === undefined) throw new UsageError("no command given");
  const spec =
    COMMANDS.find((c) => c.words.length === 2 && c.words[0] === first && c.words[1] === second) ??
    COMMANDS.find((c) => c.words.length === 1 && c.words[0] === first);
  if (!spec) {
    const subcommands = COMMANDS.filter((c) => c.words.length === 2 && c.words[0] === first).map(
      (c) => c.words[1],
    );
    if (subcommands.length > 0) {
      throw new UsageError(
        `${first} needs a subcommand: ${subcommands.join(" | ")}${second === undefined ? "" : `, got ${shown(second)}`}`,
      );
    }
    throw new UsageError(`unknown command ${shown(first)}`);
  }
  const args = positionals.slice(spec.words.length);
  const name = spec.words.join(" ");
  if (args.length < spec.args.length) {
    throw new UsageError(
      `${name} needs ${spec.args.slice(args.length).join(" ")}: keyshift ${name} ${spec.args.join(" ")}`,
    );
  }
  if (args.length > spec.args.length && spec.neverEchoArgs) {
    throw new UsageError(
      `${name} takes only ${spec.args.join(" ")}; ${args.length - spec.args.length} more argument(s) given, not shown. ` +
        "A key is read from --from-file or --stdin, never from the command line (argv is readable in /proc/<pid>/cmdline " +
        "and lands in shell history): if that argument was a key, treat it as exposed — delete it on the exchange and make another",
    );
  }
  if (args.length > spec.args.length) {
    const extra = args.slice(spec.args.length);
    throw new UsageError(
      `${name} takes ${spec.args.length ? spec.args.join(" ") : "no argument"}; unexpected ${extra.map(shown).join(" ")}` +
        " (quote a value that holds spaces)",
    );
  }
  return { spec, args };
}

function checkOptions(spec: CommandSpec<unknown>, values: OptionValues): void {
  for (const name of Object.keys(values)) {
    if (name === "json" || name === "help") continue;
    if (!(spec.options as string[]).includes(name)) {
      const takes = spec.options.length ? `; it takes ${spec.options.map((o) => `--${o}`).join(" ")}` : "";
      throw new UsageError(`${spec.words.join(" ")} does not take --${name}${takes}`);
    }
  }
}

async function configFrom(env: NodeJS.ProcessEnv) {
  const { loadConfig } = await import("../commons/config");
  try {
    return loadConfig(env);
  } catch (err) {
    throw new ConfigError(
      `${(err as Error).message}. Set the KEYSHIFT_* variables of the stage (docs/deploy.md, "CLI environment")`,
    );
  }
}
