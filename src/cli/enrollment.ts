import { createRequire } from "node:module";
import type { EnrolledSecret } from "../../infra/enrollment.cjs";
import { shown, UsageError } from "./args";

type EnrollmentModule = typeof import("../../infra/enrollment.cjs");
type RulesModule = { rateSeconds(expression: string): number | undefined };

const require = createRequire(import.meta.url);
/** The same validator `serverless package` runs, so the schedule and the stored settings agree. */
export const enrollment = require("../../infra/enrollment.cjs") as EnrollmentModule;
/** Seconds between runs of a `rate(...)` schedule; undefined for `cron(...)`. */
export const { rateSeconds } = require("../../infra/enrollment-rules.cjs") as RulesModule;

/** The enrollment entry of a secret; a secret missing from the file is a usage error naming the file. */
export function entryFor(secretId: string, configPath: string | undefined): EnrolledSecret {
  const file = configPath ?? enrollment.DEFAULT_CONFIG_PATH;
  const entry = enrollment.loadEnrollment(file).secrets.find((s) => s.secretId === secretId);
  if (!entry)
    throw new UsageError(
      `${shown(secretId)} is not in ${file}: add it there first (docs/deploy.md, "Enroll a secret")`,
    );
  return entry;
}
