import { createHash } from "node:crypto";
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import type { ArchivePut, AuditArchive } from "../core/ports";

/**
 * The audit archive on an S3 bucket with Object Lock in compliance mode (infra/audit-archive.cjs):
 * each object version is retained by the bucket's default retention, and the bucket policy refuses a
 * PutObject without `If-None-Match`, so no key ever gets a second version. Every put carries the
 * body's SHA-256 (Object Lock requires a checksum on PutObject; S3 refuses a body that does not match it).
 */
export class S3AuditArchive implements AuditArchive {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async putOnce(key: string, body: string): Promise<ArchivePut> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: "application/json",
          ChecksumSHA256: createHash("sha256").update(body, "utf8").digest("base64"),
          IfNoneMatch: "*",
        }),
      );
      return { created: true };
    } catch (err) {
      // 412: the key is taken. 409: a racing conditional put on the same key (S3 asks to retry).
      if (!(err instanceof S3ServiceException && err.$metadata.httpStatusCode === 412)) throw err;
    }
    const existing = await this.get(key);
    if (existing === undefined) throw new Error(`archive object ${key} is taken but cannot be read`);
    return { created: false, existing };
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await out.Body?.transformToString("utf8");
    } catch (err) {
      if (err instanceof S3ServiceException && err.name === "NoSuchKey") return undefined;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }
}
