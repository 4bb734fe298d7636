import type { ArchivePut, AuditArchive } from "../../src/core/ports";

/**
 * The write-once archive in memory: a put never replaces what a key holds, as the Object Lock
 * bucket with its conditional-writes policy does (harness/local/s3 emulates that one over REST).
 */
export class InMemoryAuditArchive implements AuditArchive {
  readonly objects = new Map<string, string>();
  /** Keys whose put fails (an S3 outage for that record); not a port method. */
  readonly failing = new Set<string>();

  async putOnce(key: string, body: string): Promise<ArchivePut> {
    if (this.failing.has(key)) throw new Error(`injected: archive put of ${key} failed`);
    const existing = this.objects.get(key);
    if (existing !== undefined) return { created: false, existing };
    this.objects.set(key, body);
    return { created: true };
  }

  async get(key: string): Promise<string | undefined> {
    return this.objects.get(key);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}
