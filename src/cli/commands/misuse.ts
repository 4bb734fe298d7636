import { readFileSync } from "node:fs";
import { InvalidInputError } from "../../core/errors";
import {
  detectMisuse,
  type Finding,
  HOUR_MS,
  hourIso,
  type MisuseReport,
  parseMisuseLines,
  type RejectedLine,
} from "../../core/misuse";
import { shown, UsageError } from "../args";
import { command } from "../command";
import { EXIT } from "../output";

/**
 * `misuse replay <file>`: the detector over a recorded JSON-lines file (format in
 * src/core/misuse/replay-input.ts), every hour judged as the hourly run would have judged it once
 * that hour ended. Offline: no AWS, no KEYSHIFT_* environment. The last stdout line is
 * `{"findings":[{kind, secretId, keyId, hour, severity, evidence, command}]}` with --json; a bad
 * line is named on stderr (line, field) and the exit code is 1, with every good line still judged.
 */
export const misuseReplay = command({
  words: ["misuse", "replay"],
  args: ["<file>"],
  options: [],
  offline: true,
  parse: ([file]): string => {
    if (!file) throw new UsageError("misuse replay needs <file>");
    return file;
  },
  async run({ out }, file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new InvalidInputError(
        `cannot read ${shown(file)}: ${(err as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
    const { input, rejected } = parseMisuseLines(text);
    for (const r of rejected)
      out.progress(`keyshift: ${file}: line ${r.line}: field ${r.field} ${r.problem}\n`);
    // The judged hours end with the file's last hour: replay time is the file's, not the wall clock's.
    let lastMs = 0;
    for (const e of input.exchange) lastMs = Math.max(lastMs, e.hour * HOUR_MS);
    const report = detectMisuse(input, { now: new Date(lastMs + HOUR_MS) });
    const machine = { findings: report.findings.map(wire), ...(rejected.length ? { rejected } : {}) };
    // With --json the human text would only repeat the findings on stderr: the rejected count says why the exit is 1.
    const human = out.json ? `${rejected.length} line(s) rejected` : humanReport(report, rejected);
    return out.outcome(human, machine, rejected.length ? EXIT.failed : EXIT.ok);
  },
});

function wire(f: Finding) {
  const { kind, secretId, keyId, severity, evidence, subject, command } = f;
  return {
    kind,
    secretId,
    keyId,
    hour: hourIso(f.hour),
    severity,
    evidence,
    ...(subject ? { subject } : {}),
    command,
  };
}

function humanReport(report: MisuseReport, rejected: RejectedLine[]): string {
  const lines = report.findings.map((f) => {
    const evidence = Object.entries(f.evidence)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    const subject = f.subject ? ` ${f.subject}` : "";
    return `${hourIso(f.hour)}  ${f.severity.padEnd(8)} ${f.kind.padEnd(20)} ${f.secretId} ${f.keyId}${subject}\n    ${evidence}\n    -> ${f.command}`;
  });
  for (const l of report.learning)
    lines.push(`${l.secretId}: rate and off-hours still learning until ${hourIso(l.untilHour)}`);
  if (rejected.length)
    lines.push(`${rejected.length} line(s) rejected (see above); every other line was judged`);
  return lines.length ? lines.join("\n") : "no finding";
}
