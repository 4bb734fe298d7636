import { readFile, stat } from "node:fs/promises";
import { confirmDeleted } from "../../core/manual/confirm";
import { provideKey } from "../../core/manual/provide";
import { instructionOf } from "../../core/manual/tasks";
import type { ManualTask } from "../../core/model";
import { MAX_ENVELOPE_STDIN_CHARS } from "../../core/operator/approvals";
import { stringOption, UsageError } from "../args";
import { command } from "../command";

const TASK_ID = /^(mk|rm)-[0-9a-f]{10}$/;
/** A key is small; anything larger is not one (and would not fit the operator API's envelope). */
const MAX_KEY_CHARS = MAX_ENVELOPE_STDIN_CHARS;

/** `tasks list`: the open manual tasks, oldest first, each with what to do and by when. */
export const tasksList = command({
  words: ["tasks", "list"],
  args: [],
  options: [],
  parse: () => undefined,
  async run({ deps, out }) {
    const open = await deps.tasks.listOpen();
    // The task token is a capability to resume an execution: never printed.
    const shown = open.map(({ taskToken: _token, ...task }) => task);
    const now = Date.now();
    out.result(
      open.length === 0
        ? "no open tasks"
        : open.map((t) => `${line(t, now)}\n  ${instructionOf(t)}`).join("\n"),
      shown,
    );
    return 0;
  },
});

function line(task: ManualTask, now: number): string {
  const late = Date.parse(task.deadline) <= now ? " OVERDUE" : "";
  const who = task.claim ? ` (being answered by ${task.claim.by})` : "";
  return `${task.taskId}\t${task.kind}\t${task.secretId}\t${task.exchange}:${task.exchangeAccount}\tdue ${task.deadline}${late}${who}`;
}

interface ProvideArgs {
  taskId: string;
  source: { file: string } | "stdin";
}

/**
 * `keys provide <taskId> --from-file F | --stdin`: hand over the key a person made for a create-key
 * task. Never as an argument (argv is readable in /proc/<pid>/cmdline and lands in shell history).
 * A writing command: the CLI reads the key where it is typed (`readSecret`) and it runs where keyshift
 * may store it and the key's IP binding lets its checks in — the operator API, with
 * KEYSHIFT_OPERATOR_API_URL — reading the key as its standard input.
 */
export const keysProvide = command({
  words: ["keys", "provide"],
  args: ["<taskId>"],
  options: ["from-file", "stdin"],
  neverEchoArgs: true,
  parse: ([taskId = ""], values): ProvideArgs => {
    const file = stringOption(values, "from-file");
    const stdin = values.stdin === true;
    if (!TASK_ID.test(taskId)) {
      // Not echoed: a key pasted where the task id goes must not reach a terminal log.
      throw new UsageError(
        "<taskId> is mk-<10 hex> as `keyshift tasks list` prints it (the value given is not shown: it does not look like a task id)",
      );
    }
    if ((file === undefined) === !stdin) {
      throw new UsageError(
        "keys provide needs exactly one of --from-file <file> or --stdin (the key is never an argument)",
      );
    }
    return { taskId, source: file === undefined ? "stdin" : { file } };
  },
  async readSecret(input: ProvideArgs, { readStdin, out }) {
    if (input.source !== "stdin") {
      const text = await readKeyFile(input.source.file, out);
      out.progress(`read the key from ${input.source.file}: delete the file once keyshift has accepted it\n`);
      return text;
    }
    if (!readStdin) throw new UsageError("--stdin: no standard input here; use --from-file");
    const text = await readStdin();
    if (text.length > MAX_KEY_CHARS) {
      throw new UsageError("--stdin: that is not a key (over 16 KiB; contents not shown)");
    }
    return text;
  },
  async run({ deps, out, actor, readStdin }, input: ProvideArgs) {
    // The key is read where the command was typed and arrives as this run's standard input: a key
    // file is never opened where it runs (on the operator API that would be the function's disk).
    if (input.source !== "stdin" || !readStdin) {
      throw new UsageError(
        "keys provide takes the key as its standard input here (the CLI reads --from-file)",
      );
    }
    const keyText = await readStdin();
    const result = await provideKey({ taskId: input.taskId, keyText, principal: actor }, deps);
    out.result(
      `key ${result.keyId} stored as the next version of ${result.secretId} (fingerprint ${result.fingerprint}, ` +
        `${result.verified === "exchange" ? "verified and described by the exchange" : "verified; its scope as the operator made it"}); ` +
        (result.workflow === "resumed"
          ? "the rotation goes on: `keyshift status` follows it"
          : `the rotation no longer waits: \`keyshift resume ${result.secretId}\` uses this key`),
      result,
    );
    return 0;
  },
});

async function readKeyFile(file: string, out: { progress(text: string): void }): Promise<string> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch {
    throw new UsageError(`--from-file: cannot read ${JSON.stringify(file)} (missing or not readable)`);
  }
  if (!info.isFile() || info.size > MAX_KEY_CHARS) {
    throw new UsageError(
      `--from-file: ${JSON.stringify(file)} is not a key file (a regular file under 16 KiB)`,
    );
  }
  if ((Number(info.mode) & 0o077) !== 0) {
    out.progress(
      `warning: ${file} is readable by other users (mode ${(Number(info.mode) & 0o777).toString(8)}); chmod 600 key files\n`,
    );
  }
  return readFile(file, "utf8");
}

/**
 * `keys confirm-deleted <taskId|entryId>`: a person deleted the key keyshift asked for. Where the
 * exchange can tell, keyshift first checks the key no longer authenticates (once).
 */
export const keysConfirmDeleted = command({
  words: ["keys", "confirm-deleted"],
  args: ["<taskId|entryId>"],
  options: [],
  parse: ([ref = ""]) => {
    if (!TASK_ID.test(ref) && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}#[\x21-\x7e]{1,256}$/.test(ref)) {
      throw new UsageError(
        "<taskId|entryId> is rm-<10 hex> (`keyshift tasks list`) or <account>#<keyId> (`keyshift revocations list`); the value given is not shown",
      );
    }
    return ref;
  },
  async run({ deps, out, actor }, ref: string) {
    const result = await confirmDeleted({ ref, principal: actor }, deps);
    out.result(
      `key ${result.keyId} (${result.entryId}) recorded revoked: ` +
        (result.verified === "exchange"
          ? "the exchange no longer knows it"
          : "on your word (keyshift cannot ask this exchange or read the old key here)") +
        (result.workflow === "resumed" ? "; the rotation goes on" : ""),
      result,
    );
    return 0;
  },
});
