import type { EnrolledSecret } from "../core/enrollment";
import { shown, UsageError } from "./args";
import { DEFAULT_CONFIG_PATH, enrollmentFromText, loadEnrollment } from "./enrollment-file";
import { BUNDLED_WORKFLOW_LIMITS } from "./workflow-limits";

/** The enrollment entry of a secret; a secret missing from the file is a usage error naming the file. */
export function entryFor(
  secretId: string,
  configPath: string | undefined,
  files?: Readonly<Record<string, string>>,
): EnrolledSecret {
  const file = configPath ?? DEFAULT_CONFIG_PATH;
  // On the operator API the file is the one the CLI read and sent, checked by the same rules.
  const sent = files?.[file];
  const enrollment =
    sent === undefined ? loadEnrollment(file) : enrollmentFromText(sent, file, BUNDLED_WORKFLOW_LIMITS);
  const entry = enrollment.secrets.find((s) => s.secretId === secretId);
  if (!entry)
    throw new UsageError(
      `${shown(secretId)} is not in ${file}: add it there first (docs/deploy.md, "Enroll a secret")`,
    );
  return entry;
}
