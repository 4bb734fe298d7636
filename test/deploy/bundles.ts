import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { label, resource, type Template } from "./packaged";

export interface LoadedBundle {
  zipBytes: number;
  /** Names the bundled module exports. */
  exports: string[];
  /** `name` of the error CreateNext's handler throws for `{}` (only probed for CreateNext). */
  invalidInputError?: string;
  /** The test protocol's markers found in the bundle: none in anything that ships. */
  testProtocol: string[];
}

/** Enough configuration for the handlers' cold start (`loadConfig()` at module scope); nothing is called. */
const LAMBDA_ENV = {
  AWS_REGION: "eu-west-1",
  KEYSHIFT_TABLE_CONSUMERS: "keyshift-test-consumers",
  KEYSHIFT_TABLE_ROTATIONS: "keyshift-test-rotations",
  KEYSHIFT_TABLE_LEDGER: "keyshift-test-ledger",
  KEYSHIFT_TABLE_AUDIT: "keyshift-test-audit",
  KEYSHIFT_ALERT_TOPIC_ARN: "arn:aws:sns:eu-west-1:123456789012:keyshift-test-alerts",
  KEYSHIFT_ADMIN_SECRET_PREFIX: "keyshift/admin/",
  KEYSHIFT_REVOCATION_MAX_ATTEMPTS: "3",
  KEYSHIFT_REVOCATION_BASE_SECONDS: "1",
  KEYSHIFT_REVOCATION_CAP_SECONDS: "2",
  KEYSHIFT_EXCHANGE_TIMEOUT_MS: "100",
  // The secret-read function's own (infra/functions.yml): its cold start refuses to run without it.
  KEYSHIFT_READER_ROLE_ARNS: "arn:aws:iam::123456789012:role/keyshift-test-createNext",
  // The operator API's approval setting (serverless param approvalCommands): required at cold start.
  KEYSHIFT_APPROVAL_COMMANDS: "default",
  // The operator API's prover (the prove-deleted function's name): required at cold start.
  KEYSHIFT_PROVE_DELETED_FUNCTION: "keyshift-test-proveDeleted",
  KEYSHIFT_AUDIT_ARCHIVE_BUCKET: "keyshift-test-audit-archive",
  // The hygiene audit's schedule group and what the schedules call: its cold start refuses without them.
  KEYSHIFT_SCHEDULE_GROUP: "keyshift-test-rotations",
  KEYSHIFT_STATE_MACHINE_ARN: "arn:aws:states:eu-west-1:123456789012:stateMachine:keyshift-test-rotation",
  KEYSHIFT_SCHEDULER_ROLE_ARN: "arn:aws:iam::123456789012:role/keyshift-test-scheduler",
  KEYSHIFT_SCHEDULE_DLQ_ARN: "arn:aws:sqs:eu-west-1:123456789012:keyshift-test-schedule-dlq",
  POWERTOOLS_LOG_LEVEL: "SILENT",
};

/** Runs in a fresh Node process per call: imports each bundle as Lambda would and reports. */
const PROBE = `
const files = JSON.parse(process.argv[1]);
const out = {};
for (const [name, file] of Object.entries(files)) {
  const mod = await import(file);
  out[name] = { exports: Object.keys(mod).sort() };
  if (name === "CreateNext") {
    try { await mod.handler({}, {}); } catch (err) { out[name].invalidInputError = err.name; }
  }
}
process.stdout.write("PROBE " + JSON.stringify(out) + "\\n");
`;

/**
 * Strings only the harness's test protocol carries (its name, its signature header): a shipped
 * bundle holding one has pulled the test protocol in.
 */
const TEST_PROTOCOL_MARKERS = ["keyshift-sim", "x-ks-sig"];

/**
 * Unzips each function's package (the zip named in its `Code.S3Key`), then imports the file its
 * `Handler` names with the runtime this process runs on (Node 22 under `npm test`/`npx vitest`).
 */
export async function loadBundles(template: Template, packageDir: string, names: string[]) {
  const root = mkdtempSync(join(tmpdir(), "keyshift-bundles-"));
  const files: Record<string, string> = {};
  const zipBytes: Record<string, number> = {};
  const testProtocol: Record<string, string[]> = {};
  for (const name of names) {
    const props = resource(template, `${name}LambdaFunction`).Properties;
    const zip = join(packageDir, basename(label((props.Code as { S3Key: unknown }).S3Key)));
    zipBytes[name] = statSync(zip).size;
    const dir = join(root, name);
    execFileSync("unzip", ["-q", "-o", zip, "-d", dir]);
    const handler = props.Handler as string;
    files[name] = join(dir, `${handler.slice(0, handler.lastIndexOf("."))}.mjs`);
    testProtocol[name] = TEST_PROTOCOL_MARKERS.filter((m) =>
      readFileSync(files[name] ?? "", "utf8").includes(m),
    );
  }
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", PROBE, JSON.stringify(files)],
      { cwd: root, env: { PATH: process.env.PATH, ...LAMBDA_ENV } },
      (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out)),
    );
  }).finally(() => rmSync(root, { recursive: true, force: true }));
  const line = stdout.split("\n").find((l) => l.startsWith("PROBE "));
  if (!line) throw new Error(`bundle probe printed no result:\n${stdout}`);
  const probed = JSON.parse(line.slice("PROBE ".length)) as Record<string, Omit<LoadedBundle, "zipBytes">>;
  return Object.fromEntries(
    names.map((n) => [n, { ...probed[n], zipBytes: zipBytes[n], testProtocol: testProtocol[n] ?? [] }]),
  ) as Record<string, LoadedBundle>;
}
