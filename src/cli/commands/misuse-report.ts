import { hourIso } from "../../core/misuse/model";
import { storedExchangeSide } from "../../core/misuse/pull";
import {
  acknowledgeFinding,
  type MisuseReportOutput,
  misuseReport,
  type ReportedFinding,
} from "../../core/misuse/report";
import { reasonOption, shown, stringOption, timeOption, UsageError } from "../args";
import { command } from "../command";
import { EXIT } from "../output";

const FINDING_ID = /^mf_[0-9a-f]{16}$/;

/**
 * `misuse report [--since D] [--json]`: the detector over the stored aggregates — the consumers'
 * usage from their heartbeats, the exchange side where it is stored (said per account where not) —
 * every finding with its id, kind, severity, evidence (numbers only) and the command to act.
 * Acknowledged findings are listed apart. Exit 1 while any open finding is critical or high.
 */
export const misuseReportCommand = command({
  words: ["misuse", "report"],
  args: [],
  options: ["since"],
  parse: (_args, values) => {
    const since = stringOption(values, "since") ?? "24h";
    timeOption("--since", since, new Date(), "back");
    return { since };
  },
  async run({ deps, out }, input) {
    const now = deps.clock.now();
    const since = timeOption("--since", input.since, now, "back");
    const report = await misuseReport(
      { since },
      { ...deps, acks: deps.misuseAcks, exchangeActivity: storedExchangeSide(deps.exchangeSide) },
    );
    const machine = {
      ...report,
      findings: report.findings.map(wire),
      acknowledged: report.acknowledged.map(wire),
      learning: report.learning.map((l) => ({ secretId: l.secretId, until: hourIso(l.untilHour) })),
    };
    const urgent = report.findings.some((f) => f.severity === "critical" || f.severity === "high");
    return out.outcome(humanReport(report), machine, urgent ? EXIT.failed : EXIT.ok);
  },
});

/**
 * `misuse ack <finding-id> --reason "…" [--until D]`: acknowledge (suppress) one finding until D
 * (default 7 days, at most 90), audited in the secret's chain under the caller's AWS principal.
 */
export const misuseAckCommand = command({
  words: ["misuse", "ack"],
  args: ["<finding-id>"],
  options: ["reason", "until"],
  parse: ([id = ""], values) => {
    if (!FINDING_ID.test(id)) {
      throw new UsageError(
        `<finding-id> is mf_ and 16 hex digits as \`keyshift misuse report\` prints it, got ${shown(id)}`,
      );
    }
    const until = stringOption(values, "until") ?? "7d";
    timeOption("--until", until, new Date(), "ahead");
    return { findingId: id, reason: reasonOption(stringOption(values, "reason"), "misuse ack"), until };
  },
  async run({ deps, out, actor }, input) {
    const until = timeOption("--until", input.until, deps.clock.now(), "ahead");
    const ack = await acknowledgeFinding(
      { findingId: input.findingId, reason: input.reason, until, actor },
      { ...deps, acks: deps.misuseAcks, exchangeActivity: storedExchangeSide(deps.exchangeSide) },
    );
    out.result(
      `acknowledged ${ack.findingId} (${ack.kind} ${ack.secretId} ${ack.keyId} ${ack.hour}) until ${ack.until}; audited`,
      ack,
    );
    return EXIT.ok;
  },
});

function wire(f: ReportedFinding) {
  return { ...f, hour: hourIso(f.hour) };
}

function humanReport(report: MisuseReportOutput): string {
  const lines = [`misuse report ${report.since} → ${report.at}`];
  for (const a of report.accounts) {
    if (a.exchangeSide === "none-stored") {
      lines.push(
        `${a.account}: no exchange-side activity stored (its exchange reports none to keyshift, or no hourly pull has run yet): reconciliation, novelty, rate and off-hours have nothing to judge for ${a.secrets.join(", ")}`,
      );
    } else if (a.exchangeSide === "unattributed") {
      lines.push(
        `${a.account}: exchange-side activity stored but not judged: ${a.secrets.join(", ")} share the account and its exchange reports per account only (give each key its own sub-account; see \`keyshift hygiene\`)`,
      );
    }
  }
  for (const c of report.consumerSide) {
    lines.push(
      `${c.secretId}: consumers reported ${c.requests} request(s), ${c.authFailures} auth failure(s) over ${c.keyHours} key-hour(s)` +
        (c.keyHours === 0 ? " — none report usage (see `keyshift hygiene`)" : ""),
    );
  }
  for (const f of report.findings) lines.push(findingLine(f));
  for (const f of report.acknowledged) {
    lines.push(
      `${findingLine(f)}\n    acknowledged by ${f.acknowledged?.actor} until ${f.acknowledged?.until}: ${f.acknowledged?.reason}`,
    );
  }
  for (const l of report.learning)
    lines.push(`${l.secretId}: rate and off-hours still learning until ${hourIso(l.untilHour)}`);
  if (report.findings.length === 0) lines.push("no open finding");
  return lines.join("\n");
}

function findingLine(f: ReportedFinding): string {
  const evidence = Object.entries(f.evidence)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const subject = f.subject ? ` ${f.subject}` : "";
  return `${f.id} ${hourIso(f.hour)} ${f.severity.padEnd(8)} ${f.kind.padEnd(20)} ${f.secretId} ${f.keyId}${subject}\n    ${evidence}\n    -> ${f.command}\n    -> keyshift misuse ack ${f.id} --reason "…" [--until 7d]`;
}
