/**
 * The local S3's contract: what the audit archive relies on, as S3 answers it (error codes from the
 * S3 API reference's error list and the Object Lock and conditional-writes guides, docs/deploy.md).
 * Two buckets: one with Object Lock alone (S3's own mechanics), one that also carries the bucket
 * policy keyshift deploys (infra/audit-archive.cjs): no PutObject without If-None-Match, no deletes.
 */
import { createHash } from "node:crypto";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalIam } from "../../harness/local/local-iam";
import { type LocalS3, startLocalS3 } from "../../harness/local/s3/server";

const REGION = "us-east-1";
const LOCKED = "contract-locked";
const GUARDED = "contract-guarded";
const WRITER = "arn:aws:iam::123456789012:role/contract-archive-writer";
const READER = "arn:aws:iam::123456789012:role/contract-archive-reader";

let s3: LocalS3;
let writer: S3Client;
let reader: S3Client;

const sha256 = (body: string) => createHash("sha256").update(body).digest("base64");
const put = (bucket: string, key: string, body: string, extra: Record<string, unknown> = {}) =>
  writer.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ChecksumSHA256: sha256(body), ...extra }),
  );
const failure = async (p: Promise<unknown>) => {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as S3ServiceException | undefined;
  if (!err) throw new Error("the call succeeded");
  return { name: err.name, status: err.$metadata.httpStatusCode };
};

beforeAll(async () => {
  const iam = new LocalIam();
  iam.grant(WRITER, ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:DeleteObject"]);
  iam.grant(READER, ["s3:GetObject", "s3:ListBucket"]);
  s3 = await startLocalS3({
    callers: iam,
    region: REGION,
    buckets: [
      { name: LOCKED, objectLock: { mode: "COMPLIANCE", days: 90 } },
      {
        name: GUARDED,
        objectLock: { mode: "COMPLIANCE", days: 90 },
        policy: { requireIfNoneMatch: true, denyDeletes: true },
      },
    ],
  });
  const client = (credentials: ReturnType<LocalIam["assumeRole"]>) =>
    new S3Client({
      region: REGION,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials,
      // Only the checksums a test sets: the SDK's default CRC32 would hide a missing one.
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
  writer = client(iam.assumeRole(WRITER, "writer"));
  reader = client(iam.assumeRole(READER, "reader"));
});

afterAll(async () => {
  writer.destroy();
  reader.destroy();
  await s3.close();
});

describe("PutObject under Object Lock", () => {
  it("stores a version retained in COMPLIANCE mode for the bucket's default days", async () => {
    const out = await put(LOCKED, "trails/a%231/000000000001.json", '{"seq":1}\n', { IfNoneMatch: "*" });
    expect(out.VersionId).toBeTruthy();
    const head = await reader.send(
      new HeadObjectCommand({ Bucket: LOCKED, Key: "trails/a%231/000000000001.json" }),
    );
    expect(head.ObjectLockMode).toBe("COMPLIANCE");
    const days = ((head.ObjectLockRetainUntilDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    const got = await reader.send(
      new GetObjectCommand({ Bucket: LOCKED, Key: "trails/a%231/000000000001.json" }),
    );
    expect(await got.Body?.transformToString()).toBe('{"seq":1}\n');
  });

  it("refuses a put without Content-MD5 or a checksum (400 InvalidRequest)", async () => {
    const bare = writer.send(new PutObjectCommand({ Bucket: LOCKED, Key: "bare", Body: "x" }));
    expect(await failure(bare)).toEqual({ name: "InvalidRequest", status: 400 });
  });

  it("refuses a body that does not match its checksum (400 BadDigest)", async () => {
    const wrong = writer.send(
      new PutObjectCommand({ Bucket: LOCKED, Key: "bad", Body: "x", ChecksumSHA256: sha256("y") }),
    );
    expect(await failure(wrong)).toEqual({ name: "BadDigest", status: 400 });
  });

  it("If-None-Match: * on a taken key is 412 PreconditionFailed, and the stored body is unchanged", async () => {
    await put(LOCKED, "once", "first", { IfNoneMatch: "*" });
    expect(await failure(put(LOCKED, "once", "second", { IfNoneMatch: "*" }))).toEqual({
      name: "PreconditionFailed",
      status: 412,
    });
    const got = await reader.send(new GetObjectCommand({ Bucket: LOCKED, Key: "once" }));
    expect(await got.Body?.transformToString()).toBe("first");
  });
});

describe("deletes under COMPLIANCE retention", () => {
  it("refuses deleting a retained version (403 AccessDenied); a plain delete only adds a marker", async () => {
    const { VersionId } = await put(LOCKED, "kept", "locked body");
    expect(
      await failure(writer.send(new DeleteObjectCommand({ Bucket: LOCKED, Key: "kept", VersionId }))),
    ).toEqual({
      name: "AccessDenied",
      status: 403,
    });
    const marker = await writer.send(new DeleteObjectCommand({ Bucket: LOCKED, Key: "kept" }));
    expect(marker.DeleteMarker).toBe(true);
    expect(await failure(reader.send(new GetObjectCommand({ Bucket: LOCKED, Key: "kept" })))).toEqual({
      name: "NoSuchKey",
      status: 404,
    });
    const version = await reader.send(new GetObjectCommand({ Bucket: LOCKED, Key: "kept", VersionId }));
    expect(await version.Body?.transformToString()).toBe("locked body");
  });
});

describe("a put over a retained version (no bucket policy)", () => {
  it("adds a version on top, as S3 does; the retained one stays, readable and undeletable", async () => {
    const first = await put(LOCKED, "twice", "original");
    const second = await put(LOCKED, "twice", "replacement");
    expect(second.VersionId).not.toBe(first.VersionId);
    const old = await reader.send(
      new GetObjectCommand({ Bucket: LOCKED, Key: "twice", VersionId: first.VersionId }),
    );
    expect(await old.Body?.transformToString()).toBe("original");
    const gone = writer.send(
      new DeleteObjectCommand({ Bucket: LOCKED, Key: "twice", VersionId: first.VersionId }),
    );
    expect(await failure(gone)).toEqual({ name: "AccessDenied", status: 403 });
  });
});

describe("keyshift's bucket policy (conditional writes only, no deletes)", () => {
  it("denies a PutObject without If-None-Match, even on a new key (403 AccessDenied)", async () => {
    expect(await failure(put(GUARDED, "plain", "x"))).toEqual({ name: "AccessDenied", status: 403 });
    await put(GUARDED, "plain", "x", { IfNoneMatch: "*" });
  });

  it("denies every delete, a delete marker included (403 AccessDenied)", async () => {
    await put(GUARDED, "nodelete", "x", { IfNoneMatch: "*" });
    expect(await failure(writer.send(new DeleteObjectCommand({ Bucket: GUARDED, Key: "nodelete" })))).toEqual(
      {
        name: "AccessDenied",
        status: 403,
      },
    );
  });
});

describe("ListObjectsV2", () => {
  it("lists a prefix in key order, page by page", async () => {
    for (const seq of [3, 1, 2]) await put(LOCKED, `list/t/${String(seq).padStart(12, "0")}.json`, `${seq}`);
    const first = await reader.send(
      new ListObjectsV2Command({ Bucket: LOCKED, Prefix: "list/", MaxKeys: 2 }),
    );
    expect(first.IsTruncated).toBe(true);
    const second = await reader.send(
      new ListObjectsV2Command({
        Bucket: LOCKED,
        Prefix: "list/",
        ContinuationToken: first.NextContinuationToken,
      }),
    );
    const keys = [...(first.Contents ?? []), ...(second.Contents ?? [])].map((o) => o.Key?.slice(7, 19));
    expect(keys).toEqual(["000000000001", "000000000002", "000000000003"]);
  });
});

describe("authentication and authorization", () => {
  it("refuses a caller whose role is not granted the action (403 AccessDenied)", async () => {
    const attempt = reader.send(
      new PutObjectCommand({ Bucket: LOCKED, Key: "r", Body: "x", ChecksumSHA256: sha256("x") }),
    );
    expect(await failure(attempt)).toEqual({ name: "AccessDenied", status: 403 });
  });

  it("refuses an access key nobody holds (403 InvalidAccessKeyId)", async () => {
    const stranger = new S3Client({
      region: REGION,
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: "AKIAUNKNOWN", secretAccessKey: "x" },
    });
    expect(await failure(stranger.send(new GetObjectCommand({ Bucket: LOCKED, Key: "once" })))).toEqual({
      name: "InvalidAccessKeyId",
      status: 403,
    });
    stranger.destroy();
  });
});
