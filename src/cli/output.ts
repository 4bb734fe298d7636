import { EnrollmentConfigError } from "../core/enrollment";
import { KeyshiftError, sanitizeErrorMessage } from "../core/errors";
import { UsageError } from "./args";

/** Exit codes; `keyshift --help` lists them (usage.ts). 64 and 78 are sysexits' EX_USAGE / EX_CONFIG. */
export const EXIT = {
  ok: 0,
  /** The command ran and failed: refused by a rule, an AWS error, an execution that failed. */
  failed: 1,
  /** rotate/resume --wait: the rotation stalled or parked; the previous key is kept, an operator decides. */
  stalled: 2,
  /** audit verify: the chain does not verify. */
  auditBroken: 3,
  /** rotate/resume --wait: the new key is current but the previous key is NOT revoked yet. */
  notRevoked: 4,
  /** A command the stage puts under the two-person rule: a request is open, nothing executed yet. */
  awaitingApproval: 5,
  usage: 64,
  config: 78,
} as const;

/** The environment (KEYSHIFT_* variables) or the enrollment file is missing or invalid. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface Sink {
  write(text: string): unknown;
}

/**
 * What the CLI prints. Human text by default; with `--json` exactly one JSON value on stdout,
 * whatever happens — a result, or `{"error": {...}}` — and the human message still on stderr.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: Sink,
    private readonly stderr: Sink,
  ) {}

  result(human: string, machine: unknown): void {
    this.stdout.write(`${this.json ? JSON.stringify(machine) : human}\n`);
  }

  /** Progress and warnings: stderr, so stdout stays one JSON value with `--json`. */
  progress(text: string): void {
    this.stderr.write(text);
  }

  /** A result whose exit code is not 0: the object on stdout with `--json`, the human line on stderr too. */
  outcome(human: string, machine: unknown, code: number): number {
    if (this.json) {
      this.stdout.write(`${JSON.stringify(machine)}\n`);
      if (code !== EXIT.ok) this.stderr.write(`keyshift: ${human}\n`);
    } else {
      this.stdout.write(`${human}\n`);
    }
    return code;
  }

  /** Renders a failure and returns its exit code. */
  fail(err: unknown): number {
    return this.failure(describe(err));
  }

  /** Renders a failure already described (the operator API's, replayed by the CLI). */
  failure({ code, kind, name, message }: Failure): number {
    const hint = kind === "usage" ? "run `keyshift --help`\n" : "";
    const label = kind === "usage" ? "" : `${name}: `;
    this.stderr.write(`keyshift: ${label}${message}\n${hint}`);
    if (this.json) this.stdout.write(`${JSON.stringify({ error: { code, kind, name, message } })}\n`);
    return code;
  }
}

export interface Failure {
  code: number;
  kind: string;
  name: string;
  message: string;
}

export function describe(err: unknown): Failure {
  if (err instanceof UsageError)
    return { code: EXIT.usage, kind: "usage", name: err.name, message: err.message };
  if (err instanceof ConfigError || err instanceof EnrollmentConfigError) {
    return { code: EXIT.config, kind: "config", name: err.name, message: err.message };
  }
  if (err instanceof KeyshiftError)
    return { code: EXIT.failed, kind: "failed", name: err.name, message: err.message };
  // An error from a library or an AWS service: its name says what failed; the message is scrubbed
  // and bounded like anything else that could carry a value.
  const name = err instanceof Error ? err.name : "Error";
  const message = sanitizeErrorMessage(err instanceof Error ? err.message : String(err), 500);
  return { code: EXIT.failed, kind: "failed", name, message };
}
