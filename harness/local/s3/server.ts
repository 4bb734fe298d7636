import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { actionMatches } from "../secrets-manager/resource-policy";
import { type SigningSecret, type SigV4Reason, verifySigV4 } from "../sigv4-verify";
import { accessDenied, type LocalBucketConfig, LocalBuckets, type ObjectVersion, S3Error } from "./store";

/** Who may call: `LocalIam` (access key → signing secret and the actions its role is granted). */
export interface S3Callers {
  lookup(accessKeyId: string): (SigningSecret & { allowedActions: readonly string[] }) | undefined;
}

export interface LocalS3 {
  endpoint: string;
  buckets: LocalBuckets;
  close(): Promise<void>;
}

/**
 * How S3's REST front end answers a request it cannot authenticate (S3 API reference, "Error
 * responses": AccessDenied for an anonymous request, AuthorizationHeaderMalformed, RequestTimeTooSkewed,
 * InvalidAccessKeyId, SignatureDoesNotMatch, InvalidToken).
 */
const AUTH_ERRORS: Record<SigV4Reason, [code: string, status: number]> = {
  missing: ["AccessDenied", 403],
  incomplete: ["AuthorizationHeaderMalformed", 400],
  expired: ["RequestTimeTooSkewed", 403],
  scope: ["AuthorizationHeaderMalformed", 400],
  "unknown-key": ["InvalidAccessKeyId", 403],
  signature: ["SignatureDoesNotMatch", 403],
  token: ["InvalidToken", 400],
};

const xml = (text: string): string => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The checksums a put may carry that this emulator can verify, each as S3 words its BadDigest. */
const DIGESTS: Record<string, [name: string, of: (b: Buffer) => string]> = {
  "content-md5": ["Content-MD5", (b) => createHash("md5").update(b).digest("base64")],
  "x-amz-checksum-sha256": ["SHA256", (b) => createHash("sha256").update(b).digest("base64")],
  "x-amz-checksum-sha1": ["SHA1", (b) => createHash("sha1").update(b).digest("base64")],
  "x-amz-checksum-crc32": [
    "CRC32",
    (b) => {
      const out = Buffer.alloc(4);
      out.writeUInt32BE(crc32(b));
      return out.toString("base64");
    },
  ],
};

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
};

/** PutObject's checks on what it is sent, in S3's order: a checksum is required under Object Lock, and must match. */
function checkBody(req: IncomingMessage, body: Buffer, bucket: LocalBucketConfig): void {
  if (header(req, "content-encoding")?.includes("aws-chunked")) {
    throw new S3Error(
      "NotImplemented",
      501,
      "The local S3 does not accept aws-chunked uploads; send the body whole.",
    );
  }
  const given = Object.keys(req.headers).filter(
    (h) => h === "content-md5" || h.startsWith("x-amz-checksum-"),
  );
  const sent = given.filter((h) => h !== "x-amz-checksum-algorithm" && h !== "x-amz-checksum-type");
  if (bucket.objectLock && sent.length === 0) {
    throw new S3Error(
      "InvalidRequest",
      400,
      "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters",
    );
  }
  for (const name of sent) {
    const digest = DIGESTS[name];
    if (!digest)
      throw new S3Error("InvalidRequest", 400, `The local S3 cannot verify ${name}; use SHA256 or CRC32.`);
    if (digest[1](body) !== header(req, name)) {
      throw new S3Error(
        "BadDigest",
        400,
        `The ${digest[0]} you specified did not match the calculated checksum.`,
      );
    }
  }
}

function objectHeaders(v: ObjectVersion, withChecksum: boolean): Record<string, string> {
  return {
    "content-type": v.contentType,
    "content-length": String(v.body.length),
    etag: v.etag,
    "last-modified": v.lastModified.toUTCString(),
    "x-amz-version-id": v.versionId,
    ...(v.lockMode && v.retainUntil
      ? {
          "x-amz-object-lock-mode": v.lockMode,
          "x-amz-object-lock-retain-until-date": v.retainUntil.toISOString(),
        }
      : {}),
    ...(withChecksum ? { "x-amz-checksum-sha256": v.sha256 } : {}),
  };
}

function listXml(buckets: LocalBuckets, bucket: string, query: URLSearchParams): string {
  const prefix = query.get("prefix") ?? "";
  const max = Math.min(Number(query.get("max-keys") ?? 1000) || 1000, 1000);
  const after = query.get("continuation-token") ?? query.get("start-after") ?? "";
  const all = buckets.list(bucket, prefix).filter((o) => o.key > after);
  const page = all.slice(0, max);
  const truncated = all.length > page.length;
  const contents = page
    .map(
      ({ key, version }) =>
        `<Contents><Key>${xml(key)}</Key><LastModified>${version.lastModified.toISOString()}</LastModified><ETag>${xml(version.etag)}</ETag><Size>${version.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
    )
    .join("");
  const next = truncated
    ? `<NextContinuationToken>${xml(page.at(-1)?.key ?? "")}</NextContinuationToken>`
    : "";
  return `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xml(bucket)}</Name><Prefix>${xml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`;
}

/**
 * A local S3 for the audit archive: PutObject, GetObject, HeadObject, ListObjectsV2 and DeleteObject
 * over S3's REST protocol, path-style (`/<bucket>/<key>`), on versioned buckets with Object Lock
 * (`LocalBuckets`), each call authenticated by its SigV4 signature (service `s3`) and authorized by the
 * caller's identity policy (`s3:PutObject`, `s3:GetObject`, `s3:ListBucket`, `s3:DeleteObject`).
 */
export async function startLocalS3(opts: {
  callers: S3Callers;
  region: string;
  buckets: readonly LocalBucketConfig[];
}): Promise<LocalS3> {
  const buckets = new LocalBuckets(opts.buckets);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, Buffer.concat(chunks), res).catch((err: unknown) => fail(res, req, err));
    });
  });
  async function handle(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const auth = await verifySigV4(
      { method: req.method ?? "GET", url, headers: req.headers, body: body.toString("utf8") },
      { service: "s3", region: opts.region, uriEscapePath: false },
      (key) => opts.callers.lookup(key),
    );
    if ("reject" in auth) {
      const [code, status] = AUTH_ERRORS[auth.reject];
      throw new S3Error(code, status, auth.message);
    }
    const [, bucketName = "", ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    const bucket = buckets.bucket(bucketName);
    const method = req.method ?? "GET";
    const action =
      key === ""
        ? "s3:ListBucket"
        : method === "PUT"
          ? "s3:PutObject"
          : method === "DELETE"
            ? "s3:DeleteObject"
            : "s3:GetObject";
    if (!auth.principal.allowedActions.some((p) => actionMatches(p, action))) throw accessDenied();
    const versionId = url.searchParams.get("versionId") ?? undefined;
    if (key === "" && method === "GET" && url.searchParams.get("list-type") === "2") {
      res
        .writeHead(200, { "content-type": "application/xml" })
        .end(listXml(buckets, bucketName, url.searchParams));
    } else if (method === "PUT" && key !== "") {
      const ifNoneMatch = header(req, "if-none-match");
      if (bucket.config.policy?.requireIfNoneMatch && ifNoneMatch === undefined) throw accessDenied();
      if (ifNoneMatch !== undefined && ifNoneMatch !== "*") {
        throw new S3Error("NotImplemented", 501, "If-None-Match on PutObject takes only '*'.");
      }
      checkBody(req, body, bucket.config);
      const mode = header(req, "x-amz-object-lock-mode");
      const until = header(req, "x-amz-object-lock-retain-until-date");
      const version = buckets.put(bucketName, key, body, {
        contentType: header(req, "content-type") ?? "binary/octet-stream",
        ifNoneMatch: ifNoneMatch === "*",
        ...(mode && until
          ? { lock: { mode: mode as "COMPLIANCE" | "GOVERNANCE", until: new Date(until) } }
          : {}),
      });
      res
        .writeHead(200, {
          etag: version.etag,
          "x-amz-version-id": version.versionId,
          "x-amz-checksum-sha256": version.sha256,
        })
        .end();
    } else if (method === "DELETE" && key !== "") {
      if (bucket.config.policy?.denyDeletes) throw accessDenied();
      const deleted = buckets.delete(bucketName, key, versionId);
      res
        .writeHead(204, {
          "x-amz-version-id": deleted.versionId,
          ...(deleted.deleteMarker ? { "x-amz-delete-marker": "true" } : {}),
        })
        .end();
    } else if ((method === "GET" || method === "HEAD") && key !== "") {
      const version = buckets.read(bucketName, key, versionId);
      const headers = objectHeaders(version, header(req, "x-amz-checksum-mode") === "ENABLED");
      res.writeHead(200, headers).end(method === "HEAD" ? undefined : version.body);
    } else {
      throw new S3Error(
        "MethodNotAllowed",
        405,
        "The specified method is not allowed against this resource.",
      );
    }
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    buckets,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** S3's error document (HEAD answers the status alone: it has no body). */
function fail(res: ServerResponse, req: IncomingMessage, err: unknown): void {
  const e =
    err instanceof S3Error ? err : new S3Error("InternalError", 500, "We encountered an internal error.");
  const requestId = randomUUID();
  const extra = Object.entries(e.extra)
    .map(([k, v]) => `<${k}>${xml(v)}</${k}>`)
    .join("");
  res.writeHead(e.status, { "content-type": "application/xml", "x-amz-request-id": requestId });
  res.end(
    req.method === "HEAD"
      ? undefined
      : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${e.code}</Code><Message>${xml(e.message)}</Message>${extra}<RequestId>${requestId}</RequestId></Error>`,
  );
}
