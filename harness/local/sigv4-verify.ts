import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { parseAmzDate, parseAuthorization } from "./sigv4";

/** AWS rejects SigV4 requests whose date is more than 15 minutes off. */
const MAX_SKEW_MS = 15 * 60 * 1000;

/** What a local service needs to know about the holder of an access key. */
export interface SigningSecret {
  secretAccessKey: string;
  sessionToken?: string;
}

export type SigV4Rejection = "missing" | "scope" | "unknown-key" | "token" | "expired" | "signature";

export type SigV4Result<P> = { accessKeyId: string; principal: P } | { reject: SigV4Rejection };

/**
 * Checks a request's SigV4 signature the way an AWS front end does, for any local service: the
 * credential scope's service and region, an access key the directory knows, the session token
 * that goes with it, a date within 15 minutes, a payload hash that matches the body received, and
 * the signature recomputed over exactly the headers the client signed.
 */
export async function verifySigV4<P extends SigningSecret>(
  request: { method: string; url: URL; headers: IncomingHttpHeaders; body: string },
  expected: { service: string; region: string },
  lookup: (accessKeyId: string) => P | undefined,
): Promise<SigV4Result<P>> {
  const auth = parseAuthorization(request.headers.authorization);
  if (!auth) return { reject: "missing" };
  if (auth.service !== expected.service || auth.region !== expected.region) return { reject: "scope" };
  const principal = lookup(auth.accessKeyId);
  if (!principal) return { reject: "unknown-key" };
  if ((request.headers["x-amz-security-token"] ?? undefined) !== principal.sessionToken)
    return { reject: "token" };
  const date = parseAmzDate(String(request.headers["x-amz-date"] ?? ""));
  if (!date || Math.abs(Date.now() - date.getTime()) > MAX_SKEW_MS) return { reject: "expired" };
  // The signature covers the payload only through its hash: a hash header that does not match the
  // body actually received must fail, or a signed request could carry any body.
  const claimedHash = request.headers["x-amz-content-sha256"];
  if (
    claimedHash !== undefined &&
    claimedHash !== "UNSIGNED-PAYLOAD" &&
    claimedHash !== createHash("sha256").update(request.body, "utf8").digest("hex")
  ) {
    return { reject: "signature" };
  }
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of request.url.searchParams) query[k] = v;
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: principal.secretAccessKey,
      sessionToken: principal.sessionToken,
    },
    region: expected.region,
    service: expected.service,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      port: request.url.port ? Number(request.url.port) : undefined,
      path: request.url.pathname,
      query,
      headers,
      body: request.body,
    },
    { signingDate: date, signableHeaders: new Set(auth.signedHeaders) },
  );
  const presented = Buffer.from(auth.signature);
  const computed = Buffer.from(parseAuthorization(String(signed.headers.authorization))?.signature ?? "");
  if (presented.length !== computed.length || !timingSafeEqual(presented, computed))
    return { reject: "signature" };
  return { accessKeyId: auth.accessKeyId, principal };
}
