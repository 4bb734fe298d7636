/**
 * The CLI's command line, in-process and with NO environment: everything here is decided before
 * any configuration is loaded or any AWS call is made (test/integration/cli.test.ts runs the real
 * process against the local stack).
 */
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/commands";
import { runKeyshift } from "../../src/cli/run";
import { USAGE } from "../../src/cli/usage";

const SECRET = "keyshift/exchange/acme-main/trading";

async function keyshift(...argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runKeyshift(argv, {
    env: {},
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

describe("keyshift help and exit codes", () => {
  it.each([["--help"], ["-h"], ["help"], ["rotate", "--help"], ["explode", "--help"]])(
    "%j prints the usage on stdout and exits 0",
    async (...argv) => {
      const run = await keyshift(...argv);

      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`${USAGE}\n`);
    },
  );

  it("documents every command and every exit code it can return", () => {
    for (const c of COMMANDS) expect(USAGE, c.words.join(" ")).toContain(`  ${c.words.join(" ")} `);
    for (const code of [0, 1, 2, 3, 4, 64, 78]) expect(USAGE).toMatch(new RegExp(`\\n {2}${code} +\\S`));
  });

  it("with no command, exits 64 and points at --help", async () => {
    const run = await keyshift();

    expect(run.code).toBe(64);
    expect(run.stderr).toContain("run `keyshift --help`");
  });
});

describe("an offline command (misuse replay) runs with no environment", () => {
  it("gets no deps and needs no KEYSHIFT_* variable, where an AWS command exits 78", async () => {
    const offline = await keyshift("misuse", "replay", "/dev/null", "--json");
    const aws = await keyshift("revocations", "list", "--json");

    expect(offline.code, offline.stderr).toBe(0);
    expect(JSON.parse(offline.stdout)).toEqual({ findings: [] });
    expect(aws.code).toBe(78);
  });

  it("its usage errors are still usage errors", async () => {
    const run = await keyshift("misuse", "replay");

    expect(run.code).toBe(64);
    expect(run.stderr).toContain("misuse replay needs <file>");
  });
});

describe("usage errors exit 64, with or without an environment, before any configuration", () => {
  it.each(
    [
      [["explode"], 'unknown command "explode"'],
      [["status", SECRET, "--frobnicate"], "Unknown option '--frobnicate'"],
      [["force-revoke", SECRET, "--reason"], "argument missing"],
      [["force-revoke", SECRET, "--reason", "--json"], "ambiguous"],
      [["status", SECRET, "--json=yes"], "'--json' does not take an argument"],
      [["status", SECRET, "extra"], 'status takes <secretId>; unexpected "extra"'],
      [["status"], "status needs <secretId>"],
      [["status", SECRET, "--wait"], "status does not take --wait"],
      [["consumers"], "consumers needs a subcommand: register | list | remove"],
      [["revocations", "purge"], 'revocations needs a subcommand: list | retry | restore, got "purge"'],
      [["audit", "verify", `keyshift/exchange/${"x".repeat(3000)}`], "<secretId> must be 1-512 characters"],
      [["status", "keyshift/exchange/a b"], "<secretId> must be 1-512 characters"],
      [["revocations", "retry", "x".repeat(3000)], "<entryId> is <exchangeAccount>#<keyId>"],
      [["revocations", "retry", "nope"], "<entryId> is <exchangeAccount>#<keyId>"],
      [["force-revoke", SECRET, "--reason", "  "], "force-revoke needs --reason"],
      [["force-revoke", SECRET], "force-revoke needs --reason"],
      [["consumers", "remove", SECRET, "engine"], "consumers remove needs --reason"],
      [["revocations", "restore", "acme#k1"], "revocations restore needs --reason"],
      [["rotate", SECRET, "--compromised"], "rotate --compromised needs --reason"],
      [["rotate", SECRET, "--reason", "leak"], "--reason goes with --compromised"],
      [["resume", SECRET, "--compromised"], "resume does not take --compromised"],
      [["hygiene", "extra"], 'hygiene takes no argument; unexpected "extra"'],
      [["enroll", SECRET, "--config="], "--config needs a value, got an empty one"],
      [
        ["evidence", "--from", "2026-12-01"],
        "evidence needs --to --out: keyshift evidence --from YYYY-MM-DD",
      ],
      [
        ["evidence", "--from", "2026-02-30", "--to", "2026-03-01", "--out", "/nonexistent/ev"],
        '--from "2026-02-30": a period is given as calendar days YYYY-MM-DD (UTC)',
      ],
      [
        ["evidence", "--from", "2026-12-08", "--to", "2026-12-07", "--out", "/nonexistent/ev"],
        "--from 2026-12-08 is after --to 2026-12-07: the period runs from the earlier day to the later one (both included); nothing was read or written",
      ],
      [
        [
          "evidence",
          "--from",
          "2026-12-01",
          "--to",
          "2026-12-07",
          "--out",
          "/nonexistent/ev",
          "--secret",
          "a b",
        ],
        "<secretId> must be 1-512 characters",
      ],
      [
        ["enroll", "keyshift/exchange/nope/none"],
        '"keyshift/exchange/nope/none" is not in rotation.config.yml',
      ],
    ].map(([argv, message]) => [JSON.stringify(argv).slice(0, 90), argv as string[], message as string]),
  )("%s", async (_label, argv, message) => {
    const run = await keyshift(...argv);

    expect(run.code).toBe(64);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toContain("run `keyshift --help`");
    expect(run.stderr).not.toMatch(/configuration is invalid/);
  });

  const register = (...extra: string[]) => [
    "register-consumer",
    SECRET,
    "--consumer",
    "engine",
    "--principal",
    "arn:aws:iam::111122223333:role/engine",
    ...extra,
  ];

  it.each([
    ["--cache-ttl", "0x10", "--cache-ttl must be a whole number of seconds from 0 to 604800"],
    [
      "--cache-ttl",
      " 5 ",
      '--cache-ttl must be a whole number of seconds from 0 to 604800 (digits only), got " 5 "',
    ],
    ["--cache-ttl", "1e200", "--cache-ttl must be a whole number of seconds from 0 to 604800"],
    ["--cache-ttl", "Infinity", "--cache-ttl must be a whole number of seconds from 0 to 604800"],
    ["--cache-ttl", "604801", "--cache-ttl must be a whole number of seconds from 0 to 604800"],
    ["--heartbeat-interval", "0", "--heartbeat-interval must be a whole number of seconds from 1 to 86400"],
    ["--heartbeat-interval", "5.0", "--heartbeat-interval must be a whole number of seconds from 1 to 86400"],
    ["--required", "yes", '--required must be true or false, got "yes"'],
  ])("register-consumer %s %j", async (flag, value, message) => {
    const run = await keyshift(...register(flag, value));

    expect(run.code).toBe(64);
    expect(run.stderr).toContain(message);
  });

  it.each([
    [
      ["--consumer", "a#b c"],
      '--consumer must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got "a#b c"',
    ],
    [
      ["--consumer", "x\u202Eenigne"],
      '--consumer must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got "x\\u202eenigne"',
    ],
    [["--principal", "engine"], "--principal must be an IAM role ARN"],
  ])("register-consumer %j", async (change, message) => {
    const argv = register();
    argv[argv.indexOf(change[0] as string) + 1] = change[1] as string;

    const run = await keyshift(...argv);

    expect(run.code).toBe(64);
    expect(run.stderr).toContain(message);
  });

  it("with --json, a usage error is one JSON error object on stdout and the message on stderr", async () => {
    const run = await keyshift("status", SECRET, "extra", "--json");

    expect(run.code).toBe(64);
    expect(JSON.parse(run.stdout)).toEqual({
      error: {
        code: 64,
        kind: "usage",
        name: "UsageError",
        message: 'status takes <secretId>; unexpected "extra" (quote a value that holds spaces)',
      },
    });
    expect(run.stderr).toContain("unexpected");
  });
});

describe("a valid command with no environment", () => {
  it("is a configuration error (78) naming the variables, as JSON with --json", async () => {
    const run = await keyshift("status", SECRET, "--json");

    expect(run.code).toBe(78);
    expect(run.stderr).toContain("KEYSHIFT_TABLE_CONSUMERS");
    expect(JSON.parse(run.stdout)).toMatchObject({
      error: { code: 78, kind: "config", name: "ConfigError" },
    });
  });
});
