import { hygieneAudit } from "../../core/hygiene/audit";
import { readPolicyDriftOf } from "../../core/read-policy/sync";
import { command } from "../command";
import { scheduleContext } from "../schedules";

/**
 * `hygiene [--json]`: the credential hygiene audit over every enrolled secret — each finding with
 * its severity and the command that fixes it. Exit 1 when any finding is high. The run-time
 * schedules are checked when the stage's schedule group is set (KEYSHIFT_SCHEDULE_GROUP and what
 * `enroll` needs with it); without it the audit says on stderr that it did not check them.
 */
export const hygiene = command({
  words: ["hygiene"],
  args: [],
  options: [],
  parse: () => undefined,
  async run({ deps, out, env }) {
    const scheduling = env.KEYSHIFT_SCHEDULE_GROUP ? await scheduleContext(env, "hygiene") : undefined;
    if (!scheduling)
      out.progress("run-time schedules not checked: KEYSHIFT_SCHEDULE_GROUP is not set (docs/deploy.md)\n");
    let report: Awaited<ReturnType<typeof hygieneAudit>>;
    try {
      // A few secrets at once, as the weekly run does (16 there): a fleet of thousands in minutes.
      report = await hygieneAudit(
        { concurrency: 8 },
        {
          ...deps,
          policyDrift: (secretId, consumers) => readPolicyDriftOf(deps, secretId, consumers),
          ...(scheduling ? { scheduleCheck: scheduling } : {}),
        },
      );
    } finally {
      scheduling?.close();
    }
    const lines = report.findings.map(
      (f) =>
        `${f.severity.toUpperCase().padEnd(6)} ${f.kind.padEnd(22)} ${f.secretId}\n       ${f.message}\n       fix: ${f.fix}`,
    );
    const head = `${report.secrets} secret(s): ${report.counts.high} high, ${report.counts.medium} medium, ${report.counts.low} low`;
    out.result(report.findings.length ? `${head}\n${lines.join("\n")}` : `${head}: clean`, report);
    return report.counts.high > 0 ? 1 : 0;
  },
});
