import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startLocalStack } from "../src/local/stack";

/**
 * `npm run local`: the local stack, long-running. Secrets Manager state persists under
 * `.local-state/` (pass --memory to keep everything in memory); the exchange simulator is in memory.
 */
const memory = process.argv.includes("--memory");
const dir = join(process.cwd(), ".local-state");
if (!memory) mkdirSync(dir, { recursive: true });
const stack = await startLocalStack(memory ? {} : { secretsStateFile: join(dir, "secrets-manager.json") });
process.stdout.write(
  `${[
    "keyshift local stack is up (Ctrl-C to stop)",
    ...Object.entries(stack.endpoints).map(([k, v]) => `  ${k.padEnd(15)} ${v}`),
    "  exchange control plane: POST /_sim/accounts, POST /_sim/faults, GET /_sim/requests",
    "environment for the handlers and the CLI:",
    ...Object.entries(stack.env).map(([k, v]) => `  export ${k}=${v}`),
  ].join("\n")}\n`,
);
const stop = async () => {
  await stack.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
