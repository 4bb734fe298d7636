import type { EnrolledSecret } from "../core/enrollment";
import { shown, UsageError } from "./args";
import { DEFAULT_CONFIG_PATH, loadEnrollment } from "./enrollment-file";

/** The enrollment entry of a secret; a secret missing from the file is a usage error naming the file. */
export function entryFor(secretId: string, configPath: string | undefined): EnrolledSecret {
  const file = configPath ?? DEFAULT_CONFIG_PATH;
  const entry = loadEnrollment(file).secrets.find((s) => s.secretId === secretId);
  if (!entry)
    throw new UsageError(
      `${shown(secretId)} is not in ${file}: add it there first (docs/deploy.md, "Enroll a secret")`,
    );
  return entry;
}
