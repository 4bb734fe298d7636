import type { EnrolledSecret } from "../../core/enrollment";
import { DEFAULT_PAGE, fleetOverview, type SecretOverview } from "../../core/operator/fleet";
import { rateSeconds } from "../../core/schedule";
import { shown, stringOption, UsageError } from "../args";
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
  limit: number;
  nextToken: string | undefined;
}

/** The most secrets one page may ask for (each costs a few reads). */
const MAX_PAGE = 1000;

/**
 * `list [--config FILE] [--limit N] [--next-token T]`: one page of the enrolled secrets (100 unless
 * `--limit`), and the token of the next; on a fleet that fits one page, every secret of the file not
 * enrolled yet too (on a paged fleet, `keyshift apply --dry-run` shows those).
 */
export const list = command({
  words: ["list"],
  args: [],
  options: ["config", "limit", "next-token"],
  parse: (_args, values): ListInput => {
    const file = stringOption(values, "config") ?? DEFAULT_CONFIG_PATH;
    const limitText = stringOption(values, "limit");
    const page = {
      limit: limitText === undefined ? DEFAULT_PAGE : pageSize(limitText),
      nextToken: stringOption(values, "next-token"),
    };
    // A broken file must not hide the fleet: the list is shown, without schedules, and says why.
    try {
      return { file, entries: loadEnrollment(file).secrets, problem: undefined, ...page };
    } catch (err) {
      if (!(err instanceof EnrollmentConfigError)) throw err;
      return { file, entries: undefined, problem: err.message, ...page };
    }
  },
  async run({ deps, out }, input) {
    if (input.problem) out.progress(`keyshift: schedules not shown: ${input.problem}\n`);
    const page = await fleetOverview(deps, {
      limit: input.limit,
      ...(input.nextToken ? { nextToken: input.nextToken } : {}),
    });
    const entries = new Map((input.entries ?? []).map((e) => [e.secretId, e]));
    const rows = page.secrets.map((s) => ({
      ...s,
      enrolled: true,
      schedule: scheduleOf(entries.get(s.secretId), s.lastScheduledStartAt, input.file),
    }));
    // Who is not enrolled is known only when the whole fleet is on this one page.
    const whole = !input.nextToken && !page.nextToken;
    const enrolled = new Set(page.secrets.map((s) => s.secretId));
    const notEnrolled = (whole ? (input.entries ?? []) : [])
      .filter((e) => !enrolled.has(e.secretId))
      .map((e) => ({
        secretId: e.secretId,
        exchangeAccount: e.exchangeAccount,
        enrolled: false,
        state: "not-enrolled" as const,
        next: `keyshift enroll ${e.secretId} (a scheduled start fails until then)`,
        schedule: scheduleOf(e, null, input.file),
      }));
    const more = page.nextToken
      ? `\n… more secrets: keyshift list --limit ${input.limit} --next-token ${page.nextToken}`
      : "";
    out.result(`${humanTable(rows, notEnrolled)}${more}`, {
      secrets: [...rows, ...notEnrolled],
      nextToken: page.nextToken ?? null,
    });
    return 0;
  },
});

function pageSize(text: string): number {
  if (!/^[0-9]{1,4}$/.test(text) || Number(text) < 1 || Number(text) > MAX_PAGE)
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_PAGE}, got ${shown(text)}`);
  return Number(text);
}

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
