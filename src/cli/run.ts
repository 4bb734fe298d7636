import { splitCommandLine } from "./args";
import { checkOptions, resolveCommand, WRITING_COMMANDS } from "./command-line";
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
    const writes = WRITING_COMMANDS.has(spec.words.join(" "));
    const apiUrl = io.env.KEYSHIFT_OPERATOR_API_URL;
    // A key handed over (`keys provide`) is read here, in the shell that typed the command, and goes
    // wherever the command runs as its standard input: never as an argument, a path or a line.
    const stdin = spec.readSecret
      ? await spec.readSecret(parsed, { readStdin: io.readStdin ?? processStdin, out })
      : undefined;
    if (writes && apiUrl) {
      // Executed by the operator API as the principal its front door authenticated: this shell needs
      // invoke rights only, and nothing it could type names someone else.
      const { runRemote } = await import("./remote");
      return await runRemote(
        { apiUrl, spec, args, values: line.values, parsed, env: io.env, out, stdin },
        () => configFrom(io.env),
      );
    }
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
    if (writes) {
      // Without the operator API (the local stack, a shell with write rights): the same dispatcher,
      // with no gate of its own — the stage's approvals live on the operator API.
      const { DIRECT_POLICY, dispatch } = await import("./dispatch");
      const { envelopeOf } = await import("./remote");
      const envelope = envelopeOf(spec, args, line.values, stdin);
      return await dispatch(envelope, actor, { deps, env: io.env, policy: DIRECT_POLICY }, out);
    }
    return await spec.run({ deps, out, actor, env: io.env, readStdin: io.readStdin ?? processStdin }, parsed);
  } catch (err) {
    return out.fail(err);
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
