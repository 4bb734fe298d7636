import { spawn } from "node:child_process";
import type { LocalStack } from "../../../harness/local/stack";

export interface KeyshiftRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Preloaded so the CLI's router also speaks the local stack's test protocol (keyshift-sim accounts). */
const HARNESS_PROTOCOL = ["--import", "tsx", "--import", "./harness/local/exchange/keyshift-sim/register.ts"];

/**
 * Runs the real CLI in its own process, as an operator would: through the `bin` launcher
 * (`npx keyshift`), with the local stack's environment unless `env` replaces it.
 */
export function keyshiftProcess(
  stack: LocalStack | undefined,
  args: string[],
  env: NodeJS.ProcessEnv = { ...process.env, ...stack?.env },
): Promise<KeyshiftRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...HARNESS_PROTOCOL, "bin/keyshift.mjs", ...args], {
      env: { ...env, POWERTOOLS_LOG_LEVEL: "ERROR", KEYSHIFT_POLL_MS: "200" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
