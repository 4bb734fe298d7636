import { createHash, randomBytes } from "node:crypto";

/**
 * The object store behind the local S3: versioned buckets with Object Lock, as S3 keeps them. Every
 * put adds a version (a locked version is never replaced: a put of the same key makes a new one,
 * which S3 allows and the bucket policy is there to refuse); a delete without a version id adds a
 * delete marker; a delete of a version still under COMPLIANCE retention is refused.
 */
export interface ObjectVersion {
  versionId: string;
  body: Buffer;
  contentType: string;
  etag: string;
  sha256: string;
  lastModified: Date;
  lockMode?: "COMPLIANCE" | "GOVERNANCE";
  retainUntil?: Date;
  deleteMarker: boolean;
}

/** What a bucket is configured with: its Object Lock default, and the bucket policy's two guards. */
export interface LocalBucketConfig {
  name: string;
  /** Default retention of every new version (Object Lock's `DefaultRetention`). */
  objectLock?: { mode: "COMPLIANCE" | "GOVERNANCE"; days: number };
  /**
   * The bucket policy keyshift puts on its archive (infra/audit-archive.cjs), emulated as S3
   * evaluates it: a PutObject without `If-None-Match` is denied (condition key `s3:if-none-match`),
   * and so is every DeleteObject / DeleteObjectVersion.
   */
  policy?: { requireIfNoneMatch: boolean; denyDeletes: boolean };
}

export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const noSuchKey = () => new S3Error("NoSuchKey", 404, "The specified key does not exist.");
export const accessDenied = () => new S3Error("AccessDenied", 403, "Access Denied");

const newVersionId = () => randomBytes(24).toString("base64url");

export class LocalBuckets {
  private readonly buckets = new Map<
    string,
    { config: LocalBucketConfig; keys: Map<string, ObjectVersion[]> }
  >();

  constructor(configs: readonly LocalBucketConfig[]) {
    for (const config of configs) this.buckets.set(config.name, { config, keys: new Map() });
  }

  bucket(name: string) {
    const found = this.buckets.get(name);
    if (!found) {
      throw new S3Error("NoSuchBucket", 404, "The specified bucket does not exist", { BucketName: name });
    }
    return found;
  }

  /** The current version of `key`, or the version asked for. */
  read(bucket: string, key: string, versionId?: string): ObjectVersion {
    const versions = this.bucket(bucket).keys.get(key) ?? [];
    if (versionId !== undefined) {
      const version = versions.find((v) => v.versionId === versionId);
      if (!version) throw new S3Error("NoSuchVersion", 404, "The specified version does not exist.");
      if (version.deleteMarker) {
        throw new S3Error(
          "MethodNotAllowed",
          405,
          "The specified method is not allowed against this resource.",
        );
      }
      return version;
    }
    const current = versions.at(-1);
    if (!current || current.deleteMarker) throw noSuchKey();
    return current;
  }

  put(
    bucket: string,
    key: string,
    body: Buffer,
    opts: {
      contentType: string;
      ifNoneMatch: boolean;
      lock?: { mode: "COMPLIANCE" | "GOVERNANCE"; until: Date };
    },
  ): ObjectVersion {
    const { config, keys } = this.bucket(bucket);
    const versions = keys.get(key) ?? [];
    const current = versions.at(-1);
    if (opts.ifNoneMatch && current && !current.deleteMarker) {
      throw new S3Error(
        "PreconditionFailed",
        412,
        "At least one of the pre-conditions you specified did not hold",
        {
          Condition: "If-None-Match",
        },
      );
    }
    const now = new Date();
    const lock =
      opts.lock ??
      (config.objectLock && {
        mode: config.objectLock.mode,
        until: new Date(now.getTime() + config.objectLock.days * 86_400_000),
      });
    const version: ObjectVersion = {
      versionId: newVersionId(),
      body,
      contentType: opts.contentType,
      etag: `"${createHash("md5").update(body).digest("hex")}"`,
      sha256: createHash("sha256").update(body).digest("base64"),
      lastModified: now,
      ...(lock ? { lockMode: lock.mode, retainUntil: lock.until } : {}),
      deleteMarker: false,
    };
    keys.set(key, [...versions, version]);
    return version;
  }

  /**
   * DeleteObject. No version id: a delete marker on top (the locked versions stay). A version id:
   * that version goes, unless it is under COMPLIANCE retention (no one may delete it, root included).
   */
  delete(bucket: string, key: string, versionId?: string): { versionId: string; deleteMarker: boolean } {
    const { keys } = this.bucket(bucket);
    const versions = keys.get(key) ?? [];
    if (versionId === undefined) {
      const marker: ObjectVersion = {
        versionId: newVersionId(),
        body: Buffer.alloc(0),
        contentType: "",
        etag: "",
        sha256: "",
        lastModified: new Date(),
        deleteMarker: true,
      };
      keys.set(key, [...versions, marker]);
      return { versionId: marker.versionId, deleteMarker: true };
    }
    const version = versions.find((v) => v.versionId === versionId);
    if (!version) return { versionId, deleteMarker: false };
    if (
      !version.deleteMarker &&
      version.lockMode &&
      version.retainUntil &&
      version.retainUntil > new Date()
    ) {
      throw accessDenied();
    }
    keys.set(
      key,
      versions.filter((v) => v !== version),
    );
    return { versionId, deleteMarker: version.deleteMarker };
  }

  /** Keys whose current version is an object (not a delete marker), in key (UTF-8 binary) order. */
  list(bucket: string, prefix: string): Array<{ key: string; version: ObjectVersion }> {
    const out: Array<{ key: string; version: ObjectVersion }> = [];
    for (const [key, versions] of this.bucket(bucket).keys) {
      const current = versions.at(-1);
      if (key.startsWith(prefix) && current && !current.deleteMarker) out.push({ key, version: current });
    }
    return out.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }
}
