import { describe, type Failure, Output } from "./output";

/** What a command printed, in order: how the operator API hands a command's output back to the CLI. */
export type OutputEvent =
  | { t: "result"; human: string; machine: unknown }
  | { t: "progress"; text: string }
  | { t: "outcome"; human: string; machine: unknown; code: number }
  | { t: "fail"; failure: Failure };

/** What the operator API answers: the command's exit code and what it printed. */
export interface OperatorApiAnswer {
  code: number;
  events: OutputEvent[];
}

const nowhere = { write: () => undefined };

/**
 * An Output that records instead of printing. The command runs server-side exactly as in the CLI;
 * the CLI replays the events into its own Output, so human text, `--json` and exit codes are the
 * ones the command itself chose.
 */
export class RecordedOutput extends Output {
  readonly events: OutputEvent[] = [];

  constructor() {
    super(false, nowhere, nowhere);
  }
  override result(human: string, machine: unknown): void {
    this.events.push({ t: "result", human, machine });
  }
  override progress(text: string): void {
    this.events.push({ t: "progress", text });
  }
  override outcome(human: string, machine: unknown, code: number): number {
    this.events.push({ t: "outcome", human, machine, code });
    return code;
  }
  override fail(err: unknown): number {
    return this.failure(describe(err));
  }
  override failure(failure: Failure): number {
    this.events.push({ t: "fail", failure });
    return failure.code;
  }
}

/** Prints recorded events through `out`, as the command would have printed them. */
export function replay(events: readonly OutputEvent[], out: Output): void {
  for (const e of events) {
    if (e.t === "result") out.result(e.human, e.machine);
    else if (e.t === "progress") out.progress(e.text);
    else if (e.t === "outcome") out.outcome(e.human, e.machine, e.code);
    else out.failure(e.failure);
  }
}
