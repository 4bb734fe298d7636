import { parseArgs } from "node:util";
import { CONSUMER_ID_PATTERN, CONSUMER_ID_RULE } from "../core/consumers/registry-rules";
import { InvalidInputError } from "../core/errors";
import { principalKey } from "../core/principal";
import { SECRET_ID } from "../core/secret-id";

/** The command line is wrong: exit 64, and the message says what to type instead. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Every option any command takes; each command lists the ones it accepts. */
export const OPTIONS = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  wait: { type: "boolean" },
  compromised: { type: "boolean" },
  "dry-run": { type: "boolean" },
  prune: { type: "boolean" },
  reason: { type: "string" },
  config: { type: "string" },
  consumer: { type: "string" },
  principal: { type: "string" },
  "cache-ttl": { type: "string" },
  "heartbeat-interval": { type: "string" },
  required: { type: "string" },
  purpose: { type: "string" },
  ticket: { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  out: { type: "string" },
  secret: { type: "string" },
  "from-file": { type: "string" },
  stdin: { type: "boolean" },
  /** Free text for the audit and the approver; taken by every command the operator API executes. */
  note: { type: "string" },
  limit: { type: "string" },
  "next-token": { type: "string" },
  since: { type: "string" },
  until: { type: "string" },
} as const;

export type OptionName = keyof typeof OPTIONS;
export type OptionValues = Partial<Record<OptionName, string | boolean>>;

export interface CommandLine {
  positionals: string[];
  values: OptionValues;
}

/**
 * Splits the command line against every known option. An unknown option, an option missing its
 * value, a value given to a flag (`--json=yes`) or a value that looks like an option
 * (`--reason --json`) is a usage error; nothing is ignored.
 */
export function splitCommandLine(argv: string[]): CommandLine {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    return { positionals, values: values as OptionValues };
  } catch (err) {
    // Node's own message names the option; its advice about `--` is noise here.
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ""));
  }
}

/**
 * How a value is shown in an error: quoted, cut, and every character outside printable ASCII
 * escaped (`\u202e`), so a right-to-left override or a control character is seen, not obeyed.
 */
export function shown(value: string): string {
  const cut = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  const escaped = JSON.stringify(cut).replace(/[^\x20-\x7e]/g, (c) =>
    c === "…" ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  return value.length > 80 ? `${escaped} (${value.length} characters)` : escaped;
}

/** `<account>#<keyId>` (`ledgerEntryId` in src/core/tokens.ts), bounded well under DynamoDB's key size. */
const LEDGER_ENTRY_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}#[\x21-\x7e]{1,256}$/;

export function secretIdArg(value: string): string {
  if (!SECRET_ID.test(value)) {
    throw new UsageError(
      `<secretId> must be 1-512 characters of A-Z a-z 0-9 / _ + = . @ -, got ${shown(value)}`,
    );
  }
  return value;
}

export function consumerIdArg(value: string, what = "<consumerId>"): string {
  if (!CONSUMER_ID_PATTERN.test(value))
    throw new UsageError(`${what} must be ${CONSUMER_ID_RULE}, got ${shown(value)}`);
  return value;
}

/**
 * A consumer id to act on: registrations made before ids were checked may hold any character, and
 * must stay removable, so only the length is bounded (the registry is searched for the exact id).
 */
export function registeredIdArg(value: string): string {
  if (value.length < 1 || value.length > 256) {
    throw new UsageError(
      `<consumerId> must be 1-256 characters as \`keyshift consumers list\` shows it, got ${shown(value)}`,
    );
  }
  return value;
}

export function ledgerEntryIdArg(value: string): string {
  if (!LEDGER_ENTRY_ID.test(value)) {
    throw new UsageError(
      `<entryId> is <exchangeAccount>#<keyId> as \`keyshift revocations list\` prints it, got ${shown(value)}`,
    );
  }
  return value;
}

/** An IAM role, assumed-role or user ARN, as the core normalizes it. */
export function principalArg(value: string): string {
  try {
    return principalKey(value.slice(0, 2048));
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    throw new UsageError(
      `--principal must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME), assumed-role or user ARN, got ${shown(value)}`,
    );
  }
}

/**
 * A plain decimal whole number within bounds: `0x10`, `1e3`, `" 5 "`, `+5`, `5.0` and `Infinity`
 * are refused (Number() would take them all), and so is anything past `max`.
 */
export function wholeNumber(flag: string, value: string, bounds: { min: number; max: number }): number {
  const n = /^[0-9]{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= bounds.min && n <= bounds.max)) {
    throw new UsageError(
      `${flag} must be a whole number of seconds from ${bounds.min} to ${bounds.max} (digits only), got ${shown(value)}`,
    );
  }
  return n;
}

export function booleanWord(flag: string, value: string): boolean {
  if (value !== "true" && value !== "false")
    throw new UsageError(`${flag} must be true or false, got ${shown(value)}`);
  return value === "true";
}

/** Why an operator broke or changed something: it goes to the audit trail, so it must say something. */
export function reasonOption(value: string | undefined, command: string): string {
  const reason = value?.trim() ?? "";
  if (!reason) throw new UsageError(`${command} needs --reason "..." (it is written to the audit trail)`);
  if (reason.length > 500) throw new UsageError(`--reason is at most 500 characters, got ${reason.length}`);
  return reason;
}

/** A string option: absent is undefined, given empty is an error (`--config=` is a slip, not a choice). */
export function stringOption(values: OptionValues, name: OptionName): string | undefined {
  const value = values[name];
  if (value === undefined || typeof value === "boolean") return undefined;
  if (value === "") throw new UsageError(`--${name} needs a value, got an empty one`);
  return value;
}

/**
 * A time on the command line: an ISO 8601 date (`2026-12-01`, UTC midnight) or time with a zone
 * (`2026-12-01T09:00:00Z`), or a span from now (`36h`, `7d`) — back for `--since`, ahead for `--until`.
 */
export function timeOption(flag: string, value: string, now: Date, direction: "back" | "ahead"): Date {
  const span = /^([0-9]{1,4})([hd])$/.exec(value);
  if (span) {
    const ms = Number(span[1]) * (span[2] === "h" ? 3_600_000 : 86_400_000);
    return new Date(now.getTime() + (direction === "back" ? -ms : ms));
  }
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value);
  const at = iso ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new UsageError(
      `${flag} must be an ISO date (2026-12-01), an ISO time with a zone (2026-12-01T09:00:00Z) or a span (36h, 7d), got ${shown(value)}`,
    );
  }
  return new Date(at);
}
