/**
 * Where the Secrets Manager contract tests run. By default: the in-process emulator on a free
 * port. With KEYSHIFT_CONTRACT_SECRETS_MANAGER_ENDPOINT set: that endpoint (real AWS or another
 * implementation), with region from AWS_REGION (default us-east-1) and credentials from the
 * SDK's default provider chain. Every secret a test creates gets a run-unique name and is
 * force-deleted by `close()`, so a run against a shared account leaves nothing behind.
 */
import { randomBytes } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { DeleteSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SignatureV4 } from "@smithy/signature-v4";
import { type LocalCredentials, LocalIam } from "../../harness/local/local-iam";
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from "../../harness/local/secrets-manager/server";
import { retryUntil } from "./retry-until";

export const CONTRACT_ENDPOINT_ENV = "KEYSHIFT_CONTRACT_SECRETS_MANAGER_ENDPOINT";

/** True when the suite runs against an external endpoint instead of the emulator. */
export const isExternalTarget = (): boolean => Boolean(process.env[CONTRACT_ENDPOINT_ENV]);

/**
 * The emulator's caller in the contract run: a role session granted every Secrets Manager action,
 * as the operator (or an admin on AWS) would be.
 */
const CONTRACT_ROLE = "arn:aws:iam::123456789012:role/contract/keyshift-contract";

/**
 * Principals for a test that starts its own emulator: the directory to give it, and an operator's
 * credentials (every Secrets Manager action), as `openSecretsManagerTarget` sets up its own.
 */
export function localPrincipals(): { iam: LocalIam; operator: LocalCredentials } {
  const iam = new LocalIam();
  iam.grant(CONTRACT_ROLE, ["secretsmanager:*"]);
  return { iam, operator: iam.assumeRole(CONTRACT_ROLE, "contract") };
}

export interface SecretsManagerTarget {
  client: SecretsManagerClient;
  /**
   * The client's session ARN, as AccessDeniedException names it — emulator only; against AWS the
   * caller is whatever the default credential chain resolves.
   */
  callerArn?: string;
  endpoint: string;
  region: string;
  /** A run-unique secret name, registered for cleanup. */
  name(label: string): string;
  /** A raw JSON 1.1 call, signed like the SDK signs, for protocol-level checks the SDK hides. */
  rawCall(target: string, body: string): Promise<RawResponse>;
  close(): Promise<void>;
}

export interface RawResponse {
  status: number;
  requestId: string | null;
  body: Record<string, unknown>;
}

export async function openSecretsManagerTarget(): Promise<SecretsManagerTarget> {
  const external = process.env[CONTRACT_ENDPOINT_ENV];
  const region = external ? (process.env.AWS_REGION ?? "us-east-1") : "us-east-1";
  let emulator: SecretsManagerEmulator | undefined;
  let endpoint: string;
  // Every call is authenticated by its SigV4 access key: the emulator resolves it here.
  const { iam, operator } = localPrincipals();
  const credentials = external ? undefined : operator;
  if (external) {
    endpoint = external;
  } else {
    emulator = await startSecretsManagerEmulator({ port: 0, callers: iam });
    endpoint = emulator.endpoint;
  }
  const client = new SecretsManagerClient({ endpoint, region, ...(credentials ? { credentials } : {}) });

  const runId = `keyshift-contract-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const created: string[] = [];

  return {
    client,
    callerArn: credentials && iam.lookup(credentials.accessKeyId)?.userArn,
    endpoint,
    region,
    name(label) {
      const name = `${runId}/${label}`;
      created.push(name);
      return name;
    },
    rawCall: (target, body) => rawCall(client, endpoint, region, target, body),
    async close() {
      for (const name of created) {
        await client
          .send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }))
          .catch(() => undefined);
      }
      client.destroy();
      await emulator?.close();
    },
  };
}

async function rawCall(
  client: SecretsManagerClient,
  endpoint: string,
  region: string,
  target: string,
  body: string,
): Promise<RawResponse> {
  const url = new URL(endpoint);
  const signer = new SignatureV4({
    credentials: client.config.credentials,
    region,
    service: "secretsmanager",
    sha256: Sha256,
  });
  const signed = await signer.sign({
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: "/",
    query: {},
    headers: {
      host: url.host,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": target,
    },
    body,
  });
  const response = await fetch(new URL("/", endpoint), { method: "POST", headers: signed.headers, body });
  const text = await response.text();
  return {
    status: response.status,
    requestId: response.headers.get("x-amzn-requestid"),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/**
 * Retries `check` until it passes. Only against an external target: AWS documents ListSecrets
 * as eventually consistent and ForceDeleteWithoutRecovery as asynchronous. The emulator gets a
 * single attempt, so a local failure is never hidden by waiting.
 */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 90_000): Promise<T> {
  return isExternalTarget() ? retryUntil(check, timeoutMs, 2_000) : check();
}
