import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { parseAmzDate } from "./sigv4";

/** AWS's usual tolerance of a client's clock; a service may be stricter (`maxSkewMs`). */
const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;
const ALGORITHM = "AWS4-HMAC-SHA256";

/** What a local service needs to know about the holder of an access key. */
export interface SigningSecret {
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Why a request was not authenticated. Each maps to one error of AWS's JSON front end (the
 * service maps it: `secrets-manager/errors.ts`); `message` is worded as that front end words it.
 * - `missing`: no `Authorization` header, or one that is not SigV4;
 * - `incomplete`: a SigV4 header without its Credential, SignedHeaders or Signature, no date
 *   header, a date not in ISO-8601 basic format, another algorithm, a malformed credential;
 * - `expired`: the date is further from now than the service tolerates;
 * - `scope`: the credential is scoped to another region, service, terminator or day, or `host` is
 *   not signed;
 * - `unknown-key`: no principal holds the access key id;
 * - `signature`: the signature (or the payload hash) does not match;
 * - `token`: the session token is not the one issued with the key.
 */
export type SigV4Reason =
  | "missing"
  | "incomplete"
  | "expired"
  | "scope"
  | "unknown-key"
  | "signature"
  | "token";

export interface SigV4Rejection {
  reject: SigV4Reason;
  message: string;
}

export type SigV4Result<P> = { accessKeyId: string; principal: P } | SigV4Rejection;

const INVALID_TOKEN = "The security token included in the request is invalid.";
const BAD_SIGNATURE =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

interface Presented {
  accessKeyId: string;
  scope: { date: string; region: string; service: string; terminator: string };
  signedHeaders: string[];
  signature: string;
}

/**
 * Reads a SigV4 `Authorization` header, or says what is wrong with it. Parts may be separated by
 * commas or spaces, as AWS accepts.
 */
function readAuthorization(
  header: string | undefined,
  hasDate: boolean,
): Presented | { reject: "missing" | "incomplete"; message: string } {
  if (!header?.trim().startsWith("AWS4-")) {
    return { reject: "missing", message: "Request is missing Authentication Token" };
  }
  const [algorithm = "", ...rest] = header.trim().split(/[\s,]+/);
  const params = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf("=");
    if (eq > 0) params.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const lacking = ["Credential", "Signature", "SignedHeaders"]
    .filter((name) => !params.get(name))
    .map((name) => `Authorization header requires '${name}' parameter.`);
  if (!hasDate)
    lacking.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (lacking.length > 0) {
    return { reject: "incomplete", message: `${lacking.join(" ")} Authorization=${header}` };
  }
  if (algorithm !== ALGORITHM) {
    return {
      reject: "incomplete",
      message: `Unsupported AWS 'algorithm': '${algorithm}' (only ${ALGORITHM} for now). `,
    };
  }
  const credential = params.get("Credential") ?? "";
  const parts = credential.replace(/\/+$/, "").split("/");
  const [accessKeyId = "", date = "", region = "", service = "", terminator = ""] = parts;
  if (parts.length !== 5) {
    return {
      reject: "incomplete",
      message: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    };
  }
  return {
    accessKeyId,
    scope: { date, region, service, terminator },
    signedHeaders: (params.get("SignedHeaders") ?? "").toLowerCase().split(";"),
    signature: params.get("Signature") ?? "",
  };
}

const basic = (d: Date): string =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/** The date check, worded as AWS's front end words it ("Signature expired: …"). */
function checkDate(raw: string, maxSkewMs: number): Date | SigV4Rejection {
  const date = parseAmzDate(raw);
  if (!date) {
    return {
      reject: "incomplete",
      message: `Date must be in ISO-8601 'basic format'. Got '${raw}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    };
  }
  const now = Date.now();
  const minutes = `${maxSkewMs / 60_000} min.`;
  if (date.getTime() < now - maxSkewMs) {
    return {
      reject: "expired",
      message: `Signature expired: ${raw} is now earlier than ${basic(new Date(now - maxSkewMs))} (${basic(new Date(now))} - ${minutes})`,
    };
  }
  if (date.getTime() > now + maxSkewMs) {
    return {
      reject: "expired",
      message: `Signature not yet current: ${raw} is still later than ${basic(new Date(now + maxSkewMs))} (${basic(new Date(now))} + ${minutes})`,
    };
  }
  return date;
}

function checkScope(
  presented: Presented,
  expected: { service: string; region: string },
  amzDate: string,
): SigV4Rejection | undefined {
  const { scope } = presented;
  let message = "";
  if (scope.region !== expected.region)
    message += `Credential should be scoped to a valid region, not '${scope.region}'. `;
  if (scope.service !== expected.service)
    message += `Credential should be scoped to correct service: '${expected.service}'. `;
  if (scope.terminator !== "aws4_request")
    message += `Credential should be scoped with a valid terminator: 'aws4_request', not '${scope.terminator}'. `;
  if (scope.date !== amzDate.slice(0, 8))
    message += `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scope.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`;
  if (message) return { reject: "scope", message: message.trim() };
  if (!presented.signedHeaders.includes("host"))
    return { reject: "scope", message: "'Host' must be a 'SignedHeader' in the AWS Authorization." };
  return undefined;
}

/**
 * Checks a request's SigV4 signature the way an AWS front end does, for any local service, in the
 * order DynamoDB's front end is recorded to check (dynalite, `index.js`): a SigV4 header with all
 * its parts, a date within `maxSkewMs` (default 15 minutes), the credential scope's region,
 * service and day, an access key the directory knows, the signature recomputed over exactly the
 * headers the client signed (and a payload hash that matches the body received), and the session
 * token that goes with the key.
 */
export async function verifySigV4<P extends SigningSecret>(
  request: { method: string; url: URL; headers: IncomingHttpHeaders; body: string },
  expected: { service: string; region: string; maxSkewMs?: number; uriEscapePath?: boolean },
  lookup: (accessKeyId: string) => P | undefined,
): Promise<SigV4Result<P>> {
  const rawDate = String(request.headers["x-amz-date"] ?? request.headers.date ?? "");
  const presented = readAuthorization(request.headers.authorization, rawDate !== "");
  if ("reject" in presented) return presented;
  const date = checkDate(rawDate, expected.maxSkewMs ?? DEFAULT_MAX_SKEW_MS);
  if ("reject" in date) return date;
  const scoped = checkScope(presented, expected, rawDate);
  if (scoped) return scoped;
  const principal = lookup(presented.accessKeyId);
  if (!principal) return { reject: "unknown-key", message: INVALID_TOKEN };
  if (!(await signatureMatches(request, expected, presented, principal, date))) {
    return { reject: "signature", message: BAD_SIGNATURE };
  }
  if ((request.headers["x-amz-security-token"] ?? undefined) !== principal.sessionToken)
    return { reject: "token", message: INVALID_TOKEN };
  return { accessKeyId: presented.accessKeyId, principal };
}

async function signatureMatches(
  request: { method: string; url: URL; headers: IncomingHttpHeaders; body: string },
  expected: { service: string; region: string; uriEscapePath?: boolean },
  presented: Presented,
  principal: SigningSecret,
  date: Date,
): Promise<boolean> {
  // The signature covers the payload only through its hash: a hash header that does not match the
  // body actually received must fail, or a signed request could carry any body.
  const claimedHash = request.headers["x-amz-content-sha256"];
  if (
    claimedHash !== undefined &&
    claimedHash !== "UNSIGNED-PAYLOAD" &&
    claimedHash !== createHash("sha256").update(request.body, "utf8").digest("hex")
  ) {
    return false;
  }
  const signed = new Set(presented.signedHeaders);
  const headers: Record<string, string> = {};
  for (const name of signed) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of request.url.searchParams) query[k] = v;
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: presented.accessKeyId,
      secretAccessKey: principal.secretAccessKey,
      // The token as presented (it is checked after the signature, as AWS does), and only if the
      // client signed it: the signer would otherwise add the header itself.
      sessionToken: signed.has("x-amz-security-token")
        ? String(request.headers["x-amz-security-token"] ?? "")
        : undefined,
    },
    region: expected.region,
    service: expected.service,
    sha256: Sha256,
    // Clients other than the AWS SDK (the AWS CLI, curl --aws-sigv4) do not sign
    // x-amz-content-sha256; letting the signer add it would sign a header the client never did.
    applyChecksum: signed.has("x-amz-content-sha256"),
    // S3 signs the path as sent (already URI-encoded once); every other service encodes it again.
    uriEscapePath: expected.uriEscapePath ?? true,
  });
  const recomputed = await signer.sign(
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
    { signingDate: date, signableHeaders: signed },
  );
  const signature = /Signature=([0-9a-f]+)/.exec(String(recomputed.headers.authorization))?.[1] ?? "";
  const a = Buffer.from(presented.signature);
  const b = Buffer.from(signature);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * How an AWS Query-protocol front end (SNS, STS) answers a request it cannot authenticate: an XML `ErrorResponse`
 * (`<Type>Sender</Type>`), code and status per `verifySigV4`'s reason. Checked against:
 * - SNS's Common Error Types page: IncompleteSignature 400; the Query protocol's common errors
 *   (SQS, RDS, CloudSearch pages): InvalidClientTokenId 403, MissingAuthenticationToken 403;
 * - SNS's answers quoted in public threads: Publish with an unknown key is a "403 Forbidden"
 *   `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">` with `InvalidClientTokenId`
 *   "The security token included in the request is invalid." (laravel-notification-channels/aws-sns#31,
 *   aws/aws-sdk-js#1919 statusCode 403); a wrong signature is `SignatureDoesNotMatch` with the
 *   JSON front end's wording (aws/aws-sdk-ruby#335, aws/aws-sdk-js#518), and so is an expired one,
 *   "Signature expired: … (… - 15 min.)" (aws/aws-sdk-js#265 for Publish; 403 with the same
 *   ErrorResponse from SQS's Query front end, aws/aws-sdk-php#642); no signature is
 *   `MissingAuthenticationToken` "Request is missing Authentication Token", 403 (STS's Query front
 *   end, amzn/selling-partner-api-docs#3081). A credential scoped to another region or service is
 *   `SignatureDoesNotMatch` ("Credential should be scoped to …"), as STS answers it.
 */
export const QUERY_AUTHENTICATION_ERRORS: Record<SigV4Reason, [code: string, status: number]> = {
  missing: ["MissingAuthenticationToken", 403],
  incomplete: ["IncompleteSignature", 400],
  expired: ["SignatureDoesNotMatch", 403],
  scope: ["SignatureDoesNotMatch", 403],
  signature: ["SignatureDoesNotMatch", 403],
  "unknown-key": ["InvalidClientTokenId", 403],
  token: ["InvalidClientTokenId", 403],
};

/**
 * Authenticates a Query-protocol request (SNS, STS): the caller the signature names, or the code,
 * message and status that front end answers (`QUERY_AUTHENTICATION_ERRORS`).
 */
export async function authenticateQueryRequest<P extends SigningSecret>(
  request: IncomingMessage,
  body: string,
  expected: { service: string; region: string },
  callers: { lookup(accessKeyId: string): P | undefined },
): Promise<P | { code: string; message: string; status: number }> {
  const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "localhost"}`);
  const result = await verifySigV4(
    { method: request.method ?? "POST", url, headers: request.headers, body },
    expected,
    (key) => callers.lookup(key),
  );
  if (!("reject" in result)) return result.principal;
  const [code, status] = QUERY_AUTHENTICATION_ERRORS[result.reject];
  return { code, message: result.message, status };
}
