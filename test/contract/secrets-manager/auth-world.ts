/**
 * The world of auth.suite.ts: an emulator of its own (AWS cannot be asked to forget a caller), the
 * principals it knows — the contract's operator (every action) and a reader (a workload role:
 * GetSecretValue only) — and two secrets, "open" (no policy) and "guarded" (a Deny of
 * GetSecretValue to all but the operator's role path).
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import {
  CreateSecretCommand,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
  type SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { SignatureV4 } from "@smithy/signature-v4";
import type { LocalCredentials, LocalIam } from "../../../harness/local/local-iam";
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from "../../../harness/local/secrets-manager/server";
import { localPrincipals } from "../secrets-manager-target";
import { denyAllBut } from "./policy.suite";

export const REGION = "us-east-1";
export const READER_ROLE = "arn:aws:iam::123456789012:role/apps/reader";
/** The reader's session ARN, as AccessDeniedException names it. */
export const READER = "arn:aws:sts::123456789012:assumed-role/reader/r-1";

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** The error `call` fails with, or undefined if it succeeded. */
export const failure = (call: Promise<unknown>): Promise<SecretsManagerServiceException | undefined> =>
  call.then(
    () => undefined,
    (error: SecretsManagerServiceException) => error,
  );

export class AuthWorld {
  private readonly clients: SecretsManagerClient[] = [];

  private constructor(
    readonly emulator: SecretsManagerEmulator,
    readonly iam: LocalIam,
    readonly operator: LocalCredentials,
    readonly reader: LocalCredentials,
  ) {}

  static async open(): Promise<AuthWorld> {
    const { iam, operator } = localPrincipals();
    const reader = iam.assumeRole(READER_ROLE, "r-1");
    const emulator = await startSecretsManagerEmulator({ callers: iam, region: REGION });
    const world = new AuthWorld(emulator, iam, operator, reader);
    const sm = world.client(operator);
    await sm.send(new CreateSecretCommand({ Name: "open", SecretString: "open-value" }));
    await sm.send(new CreateSecretCommand({ Name: "guarded", SecretString: "guarded-value" }));
    await sm.send(
      new PutResourcePolicyCommand({
        SecretId: "guarded",
        ResourcePolicy: denyAllBut("arn:aws:iam::123456789012:role/contract/*"),
        BlockPublicPolicy: true,
      }),
    );
    return world;
  }

  /** An SDK client signing with `credentials`, for `region`. */
  client(credentials: Credentials, region = REGION): SecretsManagerClient {
    // No retries: a refused call must come back as refused, not be retried into a timeout.
    const c = new SecretsManagerClient({
      endpoint: this.emulator.endpoint,
      region,
      credentials,
      maxAttempts: 1,
    });
    this.clients.push(c);
    return c;
  }

  /** A raw JSON 1.1 call with the given headers (or a SigV4 signature made here, dated `signedAt`). */
  async raw(
    target: string,
    body: unknown,
    auth: { headers: Record<string, string> } | { sign: LocalCredentials; signedAt: Date },
  ): Promise<{ status: number; type: string; message: string }> {
    const url = new URL(this.emulator.endpoint);
    const text = JSON.stringify(body);
    let headers: Record<string, string> = {
      host: url.host,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `secretsmanager.${target}`,
    };
    if ("headers" in auth) headers = { ...headers, ...auth.headers };
    else {
      const signer = new SignatureV4({
        credentials: auth.sign,
        region: REGION,
        service: "secretsmanager",
        sha256: Sha256,
      });
      const request = {
        method: "POST",
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: "/",
        headers,
        body: text,
      };
      headers = (await signer.sign(request, { signingDate: auth.signedAt })).headers as Record<
        string,
        string
      >;
    }
    const response = await fetch(new URL("/", url), { method: "POST", headers, body: text });
    const out = (await response.json()) as { __type?: string; message?: string };
    return { status: response.status, type: String(out.__type), message: String(out.message) };
  }

  /** How many versions the secret has, as the operator sees it: a refused write adds none. */
  async versionCount(secretId: string): Promise<number> {
    const out = await this.client(this.operator).send(
      new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }),
    );
    return out.Versions?.length ?? 0;
  }

  async close(): Promise<void> {
    for (const c of this.clients.splice(0)) c.destroy();
    await this.emulator.close();
  }
}
