import { createHash, createHmac, type Hash, type Hmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "../commons/config";
import type { CommandEnvelope } from "../core/operator/approvals";
import { type OptionValues, shown } from "./args";
import type { CommandSpec } from "./command";
import { DEFAULT_CONFIG_PATH, SERVICE_DIR } from "./enrollment-file";
import type { Output } from "./output";
import { ConfigError } from "./output";
import { type OperatorApiAnswer, replay } from "./recorded-output";

/**
 * A writing command through the operator API: sent, its output replayed here, its exit code
 * returned. `rotate|resume --wait` is sent without `--wait` (a Lambda cannot wait out a rotation)
 * and this shell follows the execution it started, with reads only.
 */
export async function runRemote(
  cmd: {
    apiUrl: string;
    spec: CommandSpec<unknown>;
    args: string[];
    values: OptionValues;
    parsed: unknown;
    env: NodeJS.ProcessEnv;
    out: Output;
    /** The secret the command hands over (`readSecret`), read in this shell. */
    stdin?: string;
  },
  config: () => Promise<Config>,
): Promise<number> {
  const { spec, values, env, out } = cmd;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "";
  if (!region) throw new ConfigError("the operator API needs AWS_REGION (the stack's region)");
  const follows = (spec.words[0] === "rotate" || spec.words[0] === "resume") && values.wait === true;
  const { wait: _w, ...sent } = values;
  const answer = await sendToOperatorApi(
    cmd.apiUrl,
    envelopeOf(spec, cmd.args, follows ? sent : values, cmd.stdin),
    region,
    credentialsIn(env),
  );
  const started = answer.events.find((e) => e.t === "result");
  if (!follows || answer.code !== 0 || started?.t !== "result") {
    replay(answer.events, out);
    return answer.code;
  }
  // The start's own line is the follow's first progress line: stdout keeps one value with --json.
  replay(
    answer.events.filter((e) => e !== started),
    out,
  );
  const { executionArn } = started.machine as { executionArn: string };
  const { buildDeps } = await import("../commons/deps");
  const { followRotation } = await import("./commands/rotate");
  const deps = buildDeps(await config());
  return followRotation({ deps, out, actor: "", env }, cmd.parsed as never, executionArn);
}

/**
 * The envelope of a command line already parsed here (so a usage error never leaves the shell):
 * the line again, as text (the operator API parses it with the same `parse`), the enrollment file
 * the command reads, and a fresh idempotency key. `--json` and `--help` stay here: they are how this
 * shell prints. A secret the command hands over (`stdin`, read here by `readSecret`) travels in the
 * envelope's `stdin` only: the line says `--stdin` in place of `--from-file <path>` or `--stdin`, so
 * neither the path nor the value is ever in it.
 */
export function envelopeOf(
  spec: CommandSpec<unknown>,
  args: string[],
  values: OptionValues,
  stdin?: string,
): CommandEnvelope {
  const line = [...args];
  let note: string | undefined;
  const secretSources = stdin === undefined ? [] : ["from-file", "stdin"];
  if (stdin !== undefined) line.push("--stdin");
  for (const [name, value] of Object.entries(values)) {
    if (name === "json" || name === "help" || value === undefined) continue;
    if (secretSources.includes(name)) continue;
    if (name === "note" && typeof value === "string") note = value;
    else line.push(value === true ? `--${name}` : `--${name}=${String(value)}`);
  }
  const files: Record<string, string> = {};
  if ((spec.options as string[]).includes("config")) {
    const file = typeof values.config === "string" ? values.config : DEFAULT_CONFIG_PATH;
    try {
      files[file] = readFileSync(resolve(SERVICE_DIR, file), "utf8");
    } catch {
      // parse() already read it; a file gone since is the server's usage error to report.
    }
  }
  return {
    command: spec.words.join(" "),
    args: line,
    ...(Object.keys(files).length > 0 ? { files } : {}),
    ...(stdin !== undefined ? { stdin } : {}),
    ...(note !== undefined ? { note } : {}),
    idempotencyKey: randomUUID(),
  };
}

/**
 * The keys in the CLI's own environment, when it names them; otherwise the default chain. In a
 * process of its own that environment is `process.env` and this changes nothing; a CLI run in
 * another's process (the local stack's scripted operator) signs as the operator it was given.
 */
function credentialsIn(env: NodeJS.ProcessEnv): ApiCredentials | undefined {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}

interface ApiCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * POSTs the envelope to the operator API's function URL, signed with SigV4 (service `lambda`) by
 * the shell's own AWS credentials: the front door authenticates them, and the principal it names
 * is the actor of everything the command writes. Sent once (no retry: a command that opened a
 * request is answered by the same request when the same envelope comes again, but this does not
 * guess whether an executed one did).
 */
export async function sendToOperatorApi(
  apiUrl: string,
  envelope: CommandEnvelope,
  region: string,
  credentials?: ApiCredentials,
): Promise<OperatorApiAnswer> {
  const url = new URL("/commands", apiUrl);
  const body = JSON.stringify(envelope);
  const { SignatureV4 } = await import("@smithy/signature-v4");
  const { STSClient } = await import("@aws-sdk/client-sts");
  // The default credential chain (env, profile, SSO, instance role), as every other command uses it.
  const sts = new STSClient({ region });
  try {
    const signer = new SignatureV4({
      service: "lambda",
      region,
      credentials: credentials ?? sts.config.credentials,
      sha256: NodeSha256,
    });
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { host: url.host, "content-type": "application/json" },
      body,
    });
    const response = await fetch(url, { method: "POST", headers: signed.headers, body });
    const text = await response.text();
    if (response.status === 403) {
      throw new ConfigError(
        `the operator API refused this shell's AWS principal (HTTP 403): it needs the stack's operator policy (lambda:InvokeFunctionUrl)`,
      );
    }
    const answer = JSON.parse(text) as Partial<OperatorApiAnswer>;
    if (typeof answer.code !== "number" || !Array.isArray(answer.events)) {
      throw new Error(
        `the operator API answered HTTP ${response.status} without a command result: ${shown(text)}`,
      );
    }
    return { code: answer.code, events: answer.events };
  } finally {
    sts.destroy();
  }
}

type Data = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Data): Buffer =>
  typeof d === "string"
    ? Buffer.from(d, "utf8")
    : ArrayBuffer.isView(d)
      ? Buffer.from(d.buffer, d.byteOffset, d.byteLength)
      : Buffer.from(d);

/** SHA-256 and HMAC-SHA256 for the signer, on node:crypto (the shape @smithy/signature-v4 asks for). */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: Data) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(this.secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}
