import { runKeyshift } from "./run";

/**
 * The `keyshift` process: `npm run keyshift -- ...`, `npx keyshift ...` (bin/keyshift.mjs) or
 * `tsx src/cli/main.ts ...`. Everything but the process lives in run.ts.
 */
const code = await runKeyshift(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
process.exit(code);
