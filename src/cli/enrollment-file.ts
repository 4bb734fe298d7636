import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";
import {
  DEFAULT_CONFIG_PATH,
  type Enrollment,
  EnrollmentConfigError,
  validateEnrollment,
  type WorkflowLimits,
} from "../core/enrollment";

/**
 * The enrollment config on disk: read, parsed and checked by the rules of src/core/enrollment. The
 * CLI imports this module; infra/enrollment.cjs bundles it for plain CommonJS Node processes. Paths are relative to the service directory, not the shell's.
 */
export * from "../core/enrollment";

/** The repository root: this file is src/cli/enrollment-file.ts (the bundle defines the same dirname). */
export const SERVICE_DIR = resolve(import.meta.dirname, "..", "..");

/** The deployment's side of the rules: the rotation state machine's `TimeoutSeconds`. */
export function workflowLimits(serviceDir: string = SERVICE_DIR): WorkflowLimits {
  const asl = JSON.parse(readFileSync(join(serviceDir, "statemachines", "rotation.asl.json"), "utf8")) as {
    TimeoutSeconds: number;
  };
  return { executionTimeoutSeconds: asl.TimeoutSeconds };
}

/** Reads and validates a config file (path relative to the service directory). */
export function loadEnrollment(
  file: string = DEFAULT_CONFIG_PATH,
  serviceDir: string = SERVICE_DIR,
): Enrollment {
  const absolute = resolve(serviceDir, file);
  let text: string;
  try {
    text = readFileSync(absolute, "utf8");
  } catch (err) {
    const { code, message } = err as NodeJS.ErrnoException;
    throw new EnrollmentConfigError(file, [`cannot read ${absolute}: ${code ?? message}`]);
  }
  return enrollmentFromText(text, file, workflowLimits(serviceDir));
}

/** A config file's text (as the CLI sent it to the operator API), parsed and checked like one read from disk. */
export function enrollmentFromText(
  text: string,
  file: string,
  limits: WorkflowLimits = workflowLimits(),
): Enrollment {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new EnrollmentConfigError(file, [`not valid YAML: ${(err as Error).message.split("\n")[0]}`]);
  }
  return validateEnrollment(raw, limits, file);
}
