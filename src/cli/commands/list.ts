import type { EnrolledSecret } from "../../core/enrollment";
import { fleetOverview, type SecretOverview } from "../../core/operator/fleet";
import { rateSeconds } from "../../core/schedule";
import { stringOption } from "../args";
import { command } from "../command";
import { DEFAULT_CONFIG_PATH, EnrollmentConfigError, loadEnrollment } from "../enrollment-file";

/**
 * Where a secret's schedule comes from: its entry in the enrollment file, the file `serverless
 * package` compiles the EventBridge rules from (the CLI has no EventBridge permission to read the
 * deployed rules). The next run is known only for a `rate(...)` schedule that already started a
 * rotation: EventBridge runs a rate rule at fixed intervals, so the next start is about the last
 * scheduled start plus the rate. A `cron(...)` time is not computed here.
 */
interface Schedule {
  expression: string;
  enabled: boolean;
  source: string;
  next: string | null;
  nextBasis: string;
}

interface ListInput {
  file: string;
  entries: EnrolledSecret[] | undefined;
  problem: string | undefined;
}

/** `list [--config FILE]`: every enrolled secret, and every secret of the file not enrolled yet. */
export const list = command({
  words: ["list"],
  args: [],
  options: ["config"],
  parse: (_args, values): ListInput => {
    const file = stringOption(values, "config") ?? DEFAULT_CONFIG_PATH;
    // A broken file must not hide the fleet: the list is shown, without schedules, and says why.
    try {
      return { file, entries: loadEnrollment(file).secrets, problem: undefined };
    } catch (err) {
      if (!(err instanceof EnrollmentConfigError)) throw err;
      return { file, entries: undefined, problem: err.message };
    }
  },
  async run({ deps, out }, input) {
    if (input.problem) out.progress(`keyshift: schedules not shown: ${input.problem}\n`);
    const fleet = await fleetOverview(deps);
    const entryOf = (secretId: string) => input.entries?.find((e) => e.secretId === secretId);
    const rows = fleet.map((s) => ({
      ...s,
      enrolled: true,
      schedule: scheduleOf(entryOf(s.secretId), s.lastScheduledStartAt, input.file),
    }));
    const enrolled = new Set(fleet.map((s) => s.secretId));
    const notEnrolled = (input.entries ?? [])
      .filter((e) => !enrolled.has(e.secretId))
      .map((e) => ({
        secretId: e.secretId,
        exchangeAccount: e.exchangeAccount,
        enrolled: false,
        state: "not-enrolled" as const,
        next: `keyshift enroll ${e.secretId} (a scheduled start fails until then)`,
        schedule: scheduleOf(e, null, input.file),
      }));
    out.result(humanTable(rows, notEnrolled), [...rows, ...notEnrolled]);
    return 0;
  },
});

function scheduleOf(
  entry: EnrolledSecret | undefined,
  lastScheduledStartAt: string | null,
  source: string,
): Schedule | null {
  if (!entry) return null;
  const base = { expression: entry.schedule, enabled: entry.enabled, source };
  if (!entry.enabled) return { ...base, next: null, nextBasis: "schedule disabled" };
  const rate = rateSeconds(entry.schedule);
  if (rate === undefined) return { ...base, next: null, nextBasis: "cron schedule: next time not computed" };
  if (!lastScheduledStartAt) return { ...base, next: null, nextBasis: "no scheduled rotation yet" };
  return {
    ...base,
    next: new Date(Date.parse(lastScheduledStartAt) + rate * 1000).toISOString(),
    nextBasis: "last scheduled start + rate",
  };
}

function humanTable(
  rows: Array<SecretOverview & { schedule: Schedule | null }>,
  notEnrolled: Array<{ secretId: string; next: string; schedule: Schedule | null }>,
): string {
  if (rows.length === 0 && notEnrolled.length === 0) return "no secret is enrolled";
  const lines = rows.map((s) => {
    const last = s.lastRotation
      ? `${s.lastRotation.phase}${s.lastRotation.outcome ? ` (${s.lastRotation.outcome})` : ""} ${s.lastRotation.updatedAt}`
      : "never rotated";
    const revocations = s.openRevocations
      ? `${s.openRevocations} open revocation(s)${s.needsOperator ? `, ${s.needsOperator} NEED AN OPERATOR` : ""}`
      : "no open revocation";
    return [
      `${s.secretId}  [${s.state}]${s.next ? ` next: ${s.next}` : ""}`,
      `    last rotation: ${last}; lagging ${s.lagging}/${s.consumers} consumer(s); ${revocations}`,
      `    schedule: ${scheduleText(s.schedule)}`,
      `    ip binding: ${bindingText(s.ipBinding)}`,
    ].join("\n");
  });
  for (const s of notEnrolled) {
    lines.push(`${s.secretId}  [NOT ENROLLED] ${s.next}\n    schedule: ${scheduleText(s.schedule)}`);
  }
  return lines.join("\n");
}

function bindingText(binding: SecretOverview["ipBinding"]): string {
  if (!binding)
    return "not recorded yet (recorded at the next rotation; `keyshift status` asks the exchange)";
  if (binding.state === "unbound") return "unbound";
  const ips = binding.ips.join(", ");
  if (binding.state === "egress-allowed") return `${ips} (keyshift's egress on it)`;
  return `${ips} — LACKS keyshift's egress: the next rotation will refuse (\`keyshift status\` says the fix)`;
}

function scheduleText(schedule: Schedule | null): string {
  if (!schedule) return "none in the enrollment file";
  const next = schedule.next ? `next ≈ ${schedule.next}` : schedule.nextBasis;
  return `${schedule.expression}${schedule.enabled ? "" : " (DISABLED)"} from ${schedule.source}; ${next}`;
}
