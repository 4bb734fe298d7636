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
// On a pipe, stdout is asynchronous: `process.exit` right after a large write (`apply --json` of
// 10,000 secrets is ~1.5 MB) cut it at 64 KiB. An empty write's callback runs once everything
// queued before it is flushed; only then exit (open SDK sockets would keep the process alive).
const flushed = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => stream.write("", () => resolve()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
