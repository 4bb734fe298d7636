import { type OptionValues, shown, UsageError } from "./args";
import type { CommandSpec } from "./command";
import { COMMANDS } from "./commands";

/**
 * The commands that write: the operator API executes them (src/cli/remote.ts sends them when
 * KEYSHIFT_OPERATOR_API_URL is set); every other command reads directly.
 */
export const WRITING_COMMANDS: ReadonlySet<string> = new Set([
  "enroll",
  "register-consumer",
  "consumers register",
  "consumers remove",
  "rotate",
  "resume",
  "force-revoke",
  "rollback",
  "revocations retry",
  "revocations restore",
  "exposure rotate",
  "approvals approve",
  "approvals deny",
  "approvals sign-off",
  // a person hands over the key they made (issue 17): stored as AWSPENDING by a keyshift writer and
  // checked from keyshift's egress; the key travels as the envelope's stdin, never in its line
  "keys provide",
  // a person confirms a deletion keyshift asked for (issue 17): the ledger moves, the execution resumes
  "keys confirm-deleted",
  // acknowledging a misuse finding suppresses its alerts (issue 20): audited as the API's principal
  "misuse ack",
]);

export function resolveCommand(positionals: string[]): { spec: CommandSpec<unknown>; args: string[] } {
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

export function checkOptions(spec: CommandSpec<unknown>, values: OptionValues): void {
  for (const name of Object.keys(values)) {
    if (name === "json" || name === "help") continue;
    // The operator plane's own options: why (for the audit and the approver) and which ticket.
    if ((name === "note" || name === "ticket") && WRITING_COMMANDS.has(spec.words.join(" "))) continue;
    if (!(spec.options as string[]).includes(name)) {
      const takes = spec.options.length ? `; it takes ${spec.options.map((o) => `--${o}`).join(" ")}` : "";
      throw new UsageError(`${spec.words.join(" ")} does not take --${name}${takes}`);
    }
  }
}
