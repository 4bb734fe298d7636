import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { OUTSIDE_IP } from "../local/exchange/caller-address";
import { startLocalStack } from "../local/stack";

/**
 * `npm run local`: the local stack, long-running, until Ctrl-C. In memory by default;
 * `--state-dir DIR` keeps DynamoDB (dynalite on disk) and Secrets Manager (state file) across
 * restarts. The simulated exchanges always start empty: create accounts through their control planes.
 */
const { values } = parseArgs({
  options: { "state-dir": { type: "string" }, seed: { type: "string", default: "1" } },
});
const dir = values["state-dir"] ? resolve(values["state-dir"]) : undefined;
if (dir) mkdirSync(dir, { recursive: true });
const stack = await startLocalStack({
  seed: Number(values.seed),
  ...(dir ? { dynamoPath: join(dir, "dynamodb"), secretsStateFile: join(dir, "secrets-manager.json") } : {}),
});
process.stdout.write(
  `${[
    `keyshift local stack is up (${dir ? `state in ${dir}` : "in memory"}; Ctrl-C to stop)`,
    ...Object.entries(stack.endpoints).map(([k, v]) => `  ${k.padEnd(15)} ${v}`),
    "simulated exchanges (each with its control plane: POST /_sim/accounts, POST /_sim/faults, GET /_sim/requests):",
    ...Object.values(stack.exchanges).map((e) => `  ${e.name.padEnd(15)} ${e.url}`),
    "callers, by address (the simulators judge each key's IP allow-list against them):",
    `  ${"egress".padEnd(15)} ${stack.callers.egress} (keyshift's handlers in this process; KEYSHIFT_EGRESS_IPS)`,
    `  ${"consumer host".padEnd(15)} ${stack.callers.consumerHost} (simulated trading services)`,
    `  ${"anything else".padEnd(15)} ${OUTSIDE_IP} (on no allow-list)`,
    "environment for the handlers and the CLI (npm run keyshift -- ...):",
    "  (for keyshift-sim accounts: npx tsx --import ./harness/local/exchange/keyshift-sim/register.ts src/cli/main.ts ...)",
    ...Object.entries(stack.env).map(([k, v]) => `  export ${k}=${v}`),
  ].join("\n")}\n`,
);
const stop = async () => {
  await stack.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
