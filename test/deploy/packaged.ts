import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
const SERVERLESS = join(ROOT, "node_modules", "osls", "bin", "serverless.js");

export interface CfnResource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Properties: Record<string, unknown>;
}

export interface Template {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
}

export interface Statement {
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface ServerlessRun {
  code: number;
  output: string;
  seconds: number;
}

/**
 * Runs the osls CLI offline: telemetry and notifications off, and every AWS credential variable
 * removed, so a passing run proves packaging needs no account.
 */
export function runServerless(args: string[]): Promise<ServerlessRun> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: "1",
    SLS_NOTIFICATIONS_MODE: "off",
  };
  for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"])
    delete env[key];
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SERVERLESS, ...args],
      { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024, timeout: 180_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, output: `${stdout}${stderr}`, seconds: (performance.now() - started) / 1000 });
      },
    );
  });
}

export interface Packaged {
  dir: string;
  template: Template;
  seconds: number;
}

let packaged: Promise<Packaged> | undefined;

/**
 * `serverless package --stage dev` into a fresh directory, once per test process (module-level
 * promise): every assertion reads the same compiled template and the same zips.
 */
export function packageOnce(): Promise<Packaged> {
  packaged ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "keyshift-package-"));
    const run = await runServerless(["package", "--stage", "dev", "--package", dir]);
    if (run.code !== 0) throw new Error(`serverless package failed (exit ${run.code}):\n${run.output}`);
    const template = JSON.parse(
      readFileSync(join(dir, "cloudformation-template-update-stack.json"), "utf8"),
    ) as Template;
    return { dir, template, seconds: run.seconds };
  })();
  return packaged;
}

export function resourcesOfType(template: Template, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export function resource(template: Template, logicalId: string): CfnResource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`no resource ${logicalId} in the template`);
  return found;
}

export const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** The inline policy statements of an IAM role resource. */
export function roleStatements(role: CfnResource): Statement[] {
  const policies = (role.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

/**
 * A readable name for a CloudFormation value: `{Fn::GetAtt: [X, Arn]}` → `X`, `{Ref: X}` → `X`,
 * joins and subs flattened, pseudo parameters as `<region>`, `<account>`, `aws`.
 */
export function label(value: unknown): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(label).join(",");
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    if ("Ref" in v) return pseudo(String(v.Ref));
    if ("Fn::GetAtt" in v) return String((v["Fn::GetAtt"] as string[])[0]);
    if ("Fn::Join" in v) {
      const [sep, parts] = v["Fn::Join"] as [string, unknown[]];
      return parts.map(label).join(sep);
    }
    if ("Fn::Sub" in v) {
      const sub = v["Fn::Sub"];
      const [text, vars] = typeof sub === "string" ? [sub, {}] : (sub as [string, Record<string, unknown>]);
      return text.replace(/\$\{([^}]+)\}/g, (_, name: string) =>
        name in vars ? label((vars as Record<string, unknown>)[name]) : pseudo(name),
      );
    }
  }
  return JSON.stringify(value);
}

function pseudo(name: string): string {
  return { "AWS::Partition": "aws", "AWS::Region": "<region>", "AWS::AccountId": "<account>" }[name] ?? name;
}
