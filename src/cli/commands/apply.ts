import { describePlan } from "../../core/enrollment/plan";
import { type ApplyReport, applyEnrollment } from "../../core/operator/apply";
import { stringOption } from "../args";
import { command } from "../command";
import { DEFAULT_CONFIG_PATH, loadEnrollment } from "../enrollment-file";
import { EXIT } from "../output";
import { scheduleContext } from "../schedules";

/** Secrets reconciled at once: a few reads and writes each, well inside Scheduler's and DynamoDB's rates. */
const CONCURRENCY = 8;
/** A progress line every this many secrets (stderr). */
const PROGRESS_EVERY = 500;

/**
 * `apply [--config FILE] [--dry-run] [--prune]`: make what is deployed — each secret's settings and
 * its EventBridge Scheduler schedule — what the enrollment file declares, and say what changed.
 * Idempotent: a run after a crash re-reads the deployment and does only what is left.
 */
export const apply = command({
  words: ["apply"],
  args: [],
  options: ["config", "dry-run", "prune"],
  parse(_args, values) {
    const file = stringOption(values, "config") ?? DEFAULT_CONFIG_PATH;
    // The file first, as `enroll` reads it: a wrong entry is named before any environment or call.
    const { secrets } = loadEnrollment(file);
    return { file, secrets, dryRun: values["dry-run"] === true, prune: values.prune === true };
  },
  async run({ deps, out, actor, env }, { file, secrets, dryRun, prune }) {
    const scheduling = await scheduleContext(env, "apply");
    let report: ApplyReport;
    try {
      out.progress(`${dryRun ? "planning" : "applying"} ${secrets.length} secrets from ${file}\n`);
      report = await applyEnrollment(
        secrets,
        actor,
        { ...deps, schedules: scheduling.schedules },
        {
          deployment: scheduling.deployment,
          dryRun,
          prune,
          concurrency: CONCURRENCY,
          onProgress: (done, total) => {
            if (done % PROGRESS_EVERY === 0 && done < total) out.progress(`  ${done}/${total}\n`);
          },
        },
      );
    } finally {
      scheduling.close();
    }
    return out.outcome(summary(report, file), machine(report), report.failed ? EXIT.failed : EXIT.ok);
  },
});

/** The report for `--json`: each changed secret with its actions and changed fields, not the whole declaration. */
function machine(r: ApplyReport) {
  return {
    ...r,
    changed: r.changed.map((p) => ({
      secretId: p.secretId,
      scheduleName: p.schedule.declared.name,
      settings: { action: p.settings.action, changes: p.settings.changes },
      schedule: { action: p.schedule.action, changes: p.schedule.changes },
    })),
  };
}

function summary(r: ApplyReport, file: string): string {
  const lines = r.changed.flatMap(describePlan);
  const count = (c: ApplyReport["settings"]) =>
    `${c.create} to create, ${c.update} to update, ${c.unchanged} unchanged`;
  const verb = r.dryRun ? "would change (dry run: nothing written)" : "changed";
  lines.push(`settings: ${count(r.settings)}; schedules: ${count(r.schedules)}`);
  if (r.undeclared.length > 0) {
    const what = r.pruned ? "deleted" : r.dryRun && !r.failed ? "undeclared" : "undeclared, kept";
    lines.push(
      `${r.undeclared.length} rotation schedule(s) of secrets not in ${file} ${what}: ${r.undeclared.slice(0, 20).join(", ")}${r.undeclared.length > 20 ? ", ..." : ""}`,
    );
    if (!r.pruned) lines.push("  run `keyshift apply --prune` to delete them (the secrets stay enrolled)");
  }
  if (r.failed) {
    lines.push(
      `apply stopped at ${r.failed.secretId}: ${r.failed.error}. ${r.done} of ${r.total} secrets are done; ` +
        "fix the cause and run the same `keyshift apply` again: it re-reads what is deployed and does only what is left",
    );
  } else {
    lines.push(`${r.done} of ${r.total} secrets checked; ${r.changed.length} ${verb}`);
  }
  return lines.join("\n");
}
