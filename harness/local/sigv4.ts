import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/**
 * The SigV4 service of the heartbeat front door: a Lambda function URL (an HTTP API would be
 * `execute-api`). The region is the function's.
 */
export const SERVICE = "lambda";

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/** Signs a request to the heartbeat front door the way a consumer's AWS SDK would (SigV4, `SERVICE`). */
export async function signRequest(
  req: SignableRequest,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  region: string,
  signingDate?: Date,
  signableHeaders?: Set<string>,
): Promise<Record<string, string>> {
  // Verifying a presented signature (`signableHeaders` given) must sign exactly what the client signed:
  // clients other than the AWS SDK (curl --aws-sigv4, botocore) do not send x-amz-content-sha256, and
  // letting the signer add it would sign a header the client never did.
  const applyChecksum = !signableHeaders || signableHeaders.has("x-amz-content-sha256");
  const signer = new SignatureV4({ credentials, region, service: SERVICE, sha256: Sha256, applyChecksum });
  const query: Record<string, string> = {};
  for (const [k, v] of req.url.searchParams) query[k] = v;
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: req.url.protocol,
      hostname: req.url.hostname,
      port: req.url.port ? Number(req.url.port) : undefined,
      path: req.url.pathname,
      query,
      headers: { ...req.headers, host: req.url.host },
      body: req.body,
    },
    { signingDate, signableHeaders },
  );
  return signed.headers as Record<string, string>;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

export interface ParsedAuthorization {
  accessKeyId: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const m = header ? AUTH.exec(header) : null;
  if (!m) return undefined;
  return {
    accessKeyId: m[1] ?? "",
    region: m[3] ?? "",
    service: m[4] ?? "",
    signedHeaders: (m[5] ?? "").split(";"),
    signature: m[6] ?? "",
  };
}

/** `20261128T134501Z` → Date. */
export function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  if (!m) return undefined;
  return new Date(
    Date.UTC(+(m[1] ?? 0), +(m[2] ?? 1) - 1, +(m[3] ?? 1), +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)),
  );
}
